"""How the face square is padded where it leaves the photo: replicated edges (shipped) against alternatives.

Every cached face is cropped again from its photo (same image prep, same detector box, so the same landmarks: dlib's
shape predictor is deterministic given the box) with another `pad_mode`, into a cache of its own; `--check` first
re-crops a sample with the shipped settings and asserts the stored crops come back bit for bit. Then the shipped
seed-0 network and spectral blocks on the new crops, the full protocol (train.protocol, tone-matched AUC included),
and the left-out UTKFace faces' false alarms by how much of their crop was padding (measured on the shipped crops,
so the bins hold the same faces in every row).

    python docs/experiments/2026-12-07-crop-padding/padding.py --check edge     # the harness reprints the card
    python docs/experiments/2026-12-07-crop-padding/padding.py reflect          # ~20 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from detector.crop import Crop, crop_face, square_box  # noqa: E402
from detector.faces import get_face_finder  # noqa: E402
from detector.imageio import load_image  # noqa: E402
from detector.pipeline import Detector  # noqa: E402
from detector.product import block_widths, spectral_blocks  # noqa: E402
from train import protocol  # noqa: E402
from train.cache import ImagePrep, cache_key  # noqa: E402
from train.config import load_config  # noqa: E402
from train.stages import load_for_eval, network_features, stage_cache  # noqa: E402

SHIPPED = load_config(ROOT / "train/configs/default.toml")
OUT = ROOT / "runs" / "crop-padding"
PAD_BINS = (0.0, 0.15, 0.25, 0.35, 1.01)


def variant_run(mode: str):
    """The default run with another pad mode, its caches and features under runs/crop-padding (edge: the shipped
    caches themselves)."""
    if mode == "edge":
        return SHIPPED
    return replace(SHIPPED, name=f"crop-padding/{mode}", crop=replace(SHIPPED.crop, pad_mode=mode),
                   data=replace(SHIPPED.data, cache_dir=str(OUT / "cache")))


def _rects(box: list[float]) -> list[tuple[int, int, int, int]]:
    """The detector's integer rectangle for a stored box, and where the box (stored as float32) sits within 1e-3 of
    a half pixel, the other rounding too: float32 can flip the rounding of the float64 the detector rounded."""
    options = [sorted({int(np.floor(v)), int(np.ceil(v))}) if abs(v - np.floor(v) - 0.5) < 1e-3 else [int(round(v))]
               for v in box]
    return [(a, b, c, d) for a in options[0] for b in options[1] for c in options[2] for d in options[3]]


def recover_landmarks(finder, rgb: np.ndarray, box: list[float], stored: np.ndarray,
                      stored_lm: np.ndarray) -> tuple[np.ndarray, bool]:
    """A cached face's landmarks in its (prepped) photo, from its stored detector box: those whose shipped crop equals
    the stored crop bit for bit (and whose crop landmarks are the stored ones, where two roundings give one crop);
    and whether any did."""
    tried = []
    for r in _rects(box):
        pts = np.array([[p.x, p.y] for p in finder._predictor(rgb, finder._dlib.rectangle(*r)).parts()], np.float32)
        c = crop_face(rgb, pts, SHIPPED.crop)
        tried.append((np.array_equal(c.image, stored), np.allclose(c.landmarks, stored_lm, atol=1e-3), pts))
        if tried[-1][0] and tried[-1][1]:
            break
    matched, _, pts = max(tried, key=lambda t: (t[0], t[1]))
    return pts, matched


def _recrop(args: tuple[str, dict, list[tuple[list[float], np.ndarray]], dict, int]) -> list[tuple]:
    """Worker: one photo's faces cropped again from their stored detector boxes: the landmarks whose shipped crop
    equals the stored crop (bit for bit; and its landmarks the stored ones, where a rounding gives the same crop),
    then the variant crop from them; (crop, crop landmarks, matched)."""
    from detector.crop import CropConfig
    path, prep, faces, crop, min_side = args
    finder = _finder(min_side)
    rgb = ImagePrep(**prep)(load_image(path))
    out = []
    for box, stored, stored_lm in faces:
        pts, matched = recover_landmarks(finder, rgb, box, stored, stored_lm)
        cfg = CropConfig.from_dict(crop)
        c = shifted_crop(rgb, pts, cfg) if cfg.pad_mode == "shift" else crop_face(rgb, pts, cfg)
        out.append((c.image, c.landmarks, matched))
    return out


def shifted_crop(rgb: np.ndarray, landmarks: np.ndarray, cfg) -> Crop:
    """`pad_mode = "shift"`: the face square (same side) moved into the photo where the photo is large enough, so
    the crop holds photo pixels only and the face sits off-centre; edge padding only for a square wider than the
    photo. The rest as detector.crop.crop_face (which takes the square from the landmarks, hence this copy)."""
    x0, y0, side = square_box(np.asarray(landmarks, np.float64), cfg.scale)
    h, w = rgb.shape[:2]
    x0 = min(max(x0, 0), w - side) if side <= w else x0
    y0 = min(max(y0, 0), h - side) if side <= h else y0
    pad = ((max(0, -y0), max(0, y0 + side - h)), (max(0, -x0), max(0, x0 + side - w)), (0, 0))
    region = rgb[max(0, y0): min(h, y0 + side), max(0, x0): min(w, x0 + side)]
    if any(a or b for a, b in pad[:2]):
        region = np.pad(region, pad, mode="edge")
    img = Image.fromarray(np.ascontiguousarray(region))
    if cfg.face_px and cfg.face_px < side:
        img = img.resize((cfg.face_px, cfg.face_px), Image.BICUBIC)
    out = np.asarray(img.resize((cfg.size, cfg.size), Image.BICUBIC))
    lm = ((np.asarray(landmarks, np.float64) - [x0, y0]) * (cfg.size / side)).astype(np.float32)
    return Crop(image=out, landmarks=lm, square=(x0, y0, side))


_FINDERS: dict = {}


def _finder(min_side: int):
    if min_side not in _FINDERS:
        _FINDERS[min_side] = get_face_finder("dlib", min_side)
    return _FINDERS[min_side]


def recrop_cache(src: Path, run, check: int = 0) -> Path:
    """The cache `src` (made with the shipped crop) cropped again with `run.crop`, written where
    train.cache.build_cache would look for it; `check` > 0: re-crop that many photos with the shipped crop and assert
    equality instead."""
    info = json.loads((src / "files.json").read_text())
    with np.load(src / "meta.npz", allow_pickle=False) as m:
        meta = {k: m[k] for k in m.files}
    prep = ImagePrep(**info["prep"])
    crop = (SHIPPED.crop if check else run.crop).to_dict()
    stored = np.load(src / "crops.npy", mmap_mode="r")
    by_file: dict[int, list] = {}
    for i, f in enumerate(meta["file_idx"]):
        by_file.setdefault(int(f), []).append(i)
    files = sorted(by_file)[:check] if check else sorted(by_file)
    jobs = [(info["files"][f], info["prep"],
             [(meta["boxes"][i].tolist(), np.array(stored[i]), meta["landmarks"][i]) for i in by_file[f]],
             crop, info["min_side"]) for f in files]
    with ProcessPoolExecutor(2) as ex:
        results = list(tqdm(ex.map(_recrop, jobs, chunksize=8), total=len(jobs), desc=f"re-crop {src.name}"))
    unmatched = [i for f, res in zip(files, results) for i, (_, _, ok) in zip(by_file[f], res) if not ok]
    if unmatched:
        raise RuntimeError(f"{src.name}: {len(unmatched)} faces not reproduced from their boxes, e.g. {unmatched[:5]}")
    if check:
        for f, res in zip(files, results):
            for i, (img, lm, _) in zip(by_file[f], res):
                assert np.array_equal(stored[i], img), f"{src.name}: face {i}"
        return src
    out = Path(run.data.cache_dir) / cache_key(info["folder"], run.crop, info["backend"], info["faces"], None,
                                               info["min_side"], prep)
    if (out / "files.json").is_file():
        return out
    crops = np.zeros((len(meta["file_idx"]), run.crop.size, run.crop.size, 3), np.uint8)
    lms = np.zeros_like(meta["landmarks"])
    for f, res in zip(files, results):
        for i, (img, lm, _) in zip(by_file[f], res):
            crops[i], lms[i] = img, lm
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "crops.npy", crops)
    np.savez(tmp / "meta.npz", **{**meta, "landmarks": lms})
    (tmp / "files.json").write_text(json.dumps({**info, "crop": run.crop.to_dict()}, indent=1))
    os.rename(tmp, out)
    return out


def shipped_features(run):
    """The shipped artifact and what the protocol needs to score `run`'s faces with its network and spectral blocks:
    (detector, its density's settings, the feature blocks' widths, a Featurize)."""
    shipped, wkey = load_for_eval(ROOT / "assets" / "default")
    cfg = shipped.anomaly.config
    spectral = spectral_blocks(cfg.experts())
    widths = block_widths(shipped.model.cfg.embed_dim, run.crop, spectral)
    det = Detector(shipped.model, None, run.crop, run.data.backend)
    return shipped, cfg, widths, network_features(run, det, wkey, spectral)


def pad_fraction(crop: np.ndarray) -> float:
    """Share of a crop's area that is replicated border (rows/columns equal to their neighbour within 2 grey
    levels, counted inwards from each side): the square's part outside the photo, on the shipped crops."""
    c = crop.astype(np.int16)
    dr = np.abs(np.diff(c, axis=0)).max(axis=(1, 2))
    dc = np.abs(np.diff(c, axis=1)).max(axis=(0, 2))

    def run(d: np.ndarray) -> int:
        big = np.nonzero(d > 2)[0]
        return int(big[0]) if len(big) else len(d)

    h = c.shape[0]
    return 1 - max(h - run(dr) - run(dr[::-1]), 0) * max(h - run(dc) - run(dc[::-1]), 0) / h / h


def flagged_by_padding(flag: np.ndarray, pad: np.ndarray) -> dict[str, tuple[int, float]]:
    """{"lo-hi": (faces, % flagged)} per PAD_BINS bin of the padded share `pad`."""
    return {f"{a:.2f}-{b:.2f}": (int(s.sum()), 100 * float(flag[s].mean()))
            for a, b in zip(PAD_BINS[:-1], PAD_BINS[1:]) for s in [(pad >= a) & (pad < b)]}


def padding_line(bins: dict[str, tuple[int, float]]) -> str:
    return "by padded share of the crop: " + "; ".join(f"{k}: {pct:.1f}% of {n}" for k, (n, pct) in bins.items())


def main(mode: str, check: bool) -> None:
    torch.set_num_threads(2)
    shipped_sets = stage_cache(SHIPPED)
    caches = {Path(SHIPPED.data.cache_dir) / fs.key for g in (shipped_sets.real, shipped_sets.real_eval,
              shipped_sets.exif, shipped_sets.exif_eval, shipped_sets.fake) for fs in g.values()}
    run = variant_run(mode)
    if check:
        for c in sorted(caches):
            recrop_cache(c, run, check=20)
        print(f"re-cropped 20 photos of each of {len(caches)} caches with the shipped settings: identical")
    if mode != "edge":
        for c in sorted(caches):
            recrop_cache(c, run)
    sets = stage_cache(run)
    _, cfg, widths, feats = shipped_features(run)
    t = time.time()
    data = protocol.density_data(run, sets, feats, cfg.calib_folds, 0, widths)
    res = protocol.evaluate(run, sets, feats, data.fit_model(cfg), ("none",), (data, cfg), network_trained=False)
    r = res["none"]
    tm = r["tone_matched"]
    print(f"{mode}: {protocol.summary(r, native_only=True)}\n   tone-matched mean {tm['mean']:.1f}; held-out FAR "
          f"least / most contrasty tenth {tm['far_low_contrast']:.1f} / {tm['far_high_contrast']:.1f}", flush=True)
    # left-out UTKFace by padding (bins from the shipped crops of the same faces)
    faces = protocol.loso_test_faces(run, sets, data, network_trained=False)["utkface"]
    ref = protocol.loso_test_faces(SHIPPED, shipped_sets, data, network_trained=False)["utkface"]
    pad = np.array([pad_fraction(c) for fs in ref for c in fs.crops])
    z = np.concatenate([feats({"utkface": fs}, "none")["utkface"] for fs in faces])
    m = data.fit_model(cfg, leave_out="utkface")
    flag = m.score(z) < m.threshold()
    bins = flagged_by_padding(flag, pad)
    print(f"   utkface left out, {padding_line(bins)} [{time.time() - t:.0f}s]")
    OUT.mkdir(parents=True, exist_ok=True)
    res["utkface_by_padding"] = bins
    (OUT / f"{mode}.json").write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["edge", "reflect", "symmetric", "shift"])
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    main(a.mode, a.check)
