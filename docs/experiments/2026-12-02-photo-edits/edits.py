"""Are real faces flagged after the edits phones and photo apps make? Greyscale, colour and tone, sharpening,
smoothing, sensor noise, a mirror image.

The hidden evaluation's real faces come from photo sources the model never saw (web photos, LAION); the protocol
leaves sources out, but every face here carries its source's own processing. Ordinary edits - a black-and-white
photo, a "vivid" filter, a phone's sharpening, a beauty filter's smoothing - are not in any source and are the
commonest thing an unseen photo has been through. Each edit is applied to the cached face crop (before the model's
own JPEG q90, like the card's robustness rows: the threshold is unchanged) of held-out reals, of every generator
(the AUCs: the same edit on both sides), and of each source's unseen faces scored by the mixture fitted and
calibrated WITHOUT that source (the protocol's leave-one-source-out check, with the edit on top).

    python docs/experiments/2026-12-02-photo-edits/edits.py                 # every edit, ~40 min on 2 cores
    python docs/experiments/2026-12-02-photo-edits/edits.py gray sharpen    # some
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageFilter
from skimage.exposure import equalize_adapthist

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from detector.product import spectral_blocks  # noqa: E402
from train import protocol  # noqa: E402
from train.config import load_config  # noqa: E402
from train.embed import featurize  # noqa: E402
from train.metrics import detection_metrics  # noqa: E402
from train.stages import density_inputs, load_for_eval, stage_cache  # noqa: E402

RUN = load_config(ROOT / "train/configs/default.toml")
OUT = ROOT / "runs" / "photo-edits"
# The expert settings these records were made with (the shipped model until the ripple expert replaced the log
# spectrum, docs/experiments/2026-12-06-detrended-spectrum): variants.py, copies.py and detrend.py refit them.
RECORD_GMM = replace(RUN.gmm, spectrum_dim=111, ripple_dim=None)


def _pil(fn: Callable[[Image.Image], Image.Image]) -> Callable[[np.ndarray], np.ndarray]:
    return lambda c: np.asarray(fn(Image.fromarray(np.asarray(c))).convert("RGB"))


def _gamma(g: float) -> Callable[[np.ndarray], np.ndarray]:
    lut = np.clip(np.rint(255.0 * (np.arange(256) / 255.0) ** g), 0, 255).astype(np.uint8)
    return lambda c: lut[np.asarray(c)]


def _noise(sd: float) -> Callable[[np.ndarray], np.ndarray]:
    def f(c: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(int(np.asarray(c)[::16, ::16].sum()))  # fixed per face
        return np.clip(np.rint(np.asarray(c, np.float32) + rng.normal(0, sd, np.shape(c))), 0, 255).astype(np.uint8)
    return f


def _tint(r: float, b: float) -> Callable[[np.ndarray], np.ndarray]:
    gain = np.array([r, 1.0, b], np.float32)
    return lambda c: np.clip(np.rint(np.asarray(c, np.float32) * gain), 0, 255).astype(np.uint8)


EDITS: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {
    "none": None,
    "gray": _pil(lambda im: im.convert("L")),                                 # a black-and-white photo
    "sat0.5": _pil(lambda im: ImageEnhance.Color(im).enhance(0.5)),           # muted colours
    "sat1.5": _pil(lambda im: ImageEnhance.Color(im).enhance(1.5)),           # a "vivid" filter
    "contrast1.3": _pil(lambda im: ImageEnhance.Contrast(im).enhance(1.3)),
    "gamma0.7": _gamma(0.7),                                                  # brightened shadows
    "gamma1.4": _gamma(1.4),                                                  # darker
    "warm": _tint(1.08, 0.92),                                                # white balance off
    "sharpen": _pil(lambda im: im.filter(ImageFilter.UnsharpMask(radius=2, percent=80, threshold=2))),  # phone
    "median3": _pil(lambda im: im.filter(ImageFilter.MedianFilter(3))),       # a beauty filter's smoothing
    "noise4": _noise(4.0),                                                    # low-light sensor noise
    "mirror": lambda c: np.ascontiguousarray(np.asarray(c)[:, ::-1]),        # a selfie camera's mirror image
    # other implementations of the same kinds of edit (copies.py keeps them out of its processed copies)
    "sharpen_k": _pil(lambda im: im.filter(ImageFilter.SHARPEN)),             # a 3x3 sharpening kernel
    "clahe": lambda c: np.rint(255 * equalize_adapthist(np.asarray(c), clip_limit=0.01)).astype(np.uint8),  # local contrast
    "vivid": _pil(lambda im: ImageEnhance.Contrast(ImageEnhance.Color(im).enhance(1.3)).enhance(1.15)),
}


def feature_dir(out: Path, spectral: tuple[str, ...]) -> Path:
    """The feature cache of one network under `out`, one subfolder per block set: the ripple and the log spectrum
    have the same width, so a cache keyed by the network alone would hand one model the other's columns."""
    return out / "+".join(("embedding", *spectral))


def cache_path(out: Path, fs, edit: str) -> Path:
    """Where `features` keeps a face set's features after `edit` (`out`: a feature_dir)."""
    return out / f"{fs.id}-{edit}.npy"


def features(fn, fs, edit: str, out: Path,
             transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """`fn`'s features (crops -> embedding + spectral blocks) of a face set's crops after `edit`, cached in `out`
    (a feature_dir: one folder per network and block set). `transform`: the crop edit when `edit` names none of
    EDITS (copies.py's copies)."""
    path = cache_path(out, fs, edit)
    if path.is_file():
        return np.load(path)
    z = featurize(fn, fs.crops, EDITS[edit] if transform is None else transform, desc=f"{fs.name} {edit}")
    out.mkdir(parents=True, exist_ok=True)
    np.save(path, z)
    return z


def edit_rows(sets, feats: Callable[[object, str], np.ndarray], model, loso: dict, tests: dict, edits: list[str],
              summary: Path) -> dict:
    """Each edit's row: held-out reals and every generator scored by `model` (its threshold unchanged), and each
    source's unseen faces by `loso[source]` (fitted and calibrated without it); `feats(face set, edit)` gives the
    features the models score. Rows are appended to `summary` (JSON) as they come."""
    thr = model.threshold()
    held = sets.split("heldout", evaluation=True)
    rows = {}
    for edit in edits:
        t = time.time()
        real = {k: model.score(feats(fs, edit)) for k, fs in held.items()}
        all_real = np.concatenate(list(real.values()))
        fake = {g: model.score(feats(fs, edit)) for g, fs in sets.fake.items()}
        per = {g: detection_metrics(all_real, s, thr) for g, s in fake.items()}
        lo = {}
        for s, faces in tests.items():
            z = np.concatenate([feats(fs, edit) for fs in faces])
            lo[s] = 100 * float(np.mean(loso[s].score(z) < loso[s].threshold()))
        worst = protocol.worst_generator(per)
        rows[edit] = {"heldout_far": 100 * float(np.mean(all_real < thr)),
                      "heldout_by_source": {k: 100 * float(np.mean(v < thr)) for k, v in real.items()},
                      "median_ll": {k: float(np.median(v)) for k, v in real.items()},
                      "mean_auc": float(np.mean([m["auc"] for m in per.values()])), "worst": worst,
                      "auc": {g: m["auc"] for g, m in per.items()},
                      "flagged_fakes": float(np.mean([m["tpr"] for m in per.values()])),
                      "loso": lo, "loso_worst": max(lo.items(), key=lambda kv: kv[1])}
        r = rows[edit]
        print(f"{edit}: held-out FAR {r['heldout_far']:.1f} | LOSO worst {r['loso_worst'][1]:.1f} "
              f"({r['loso_worst'][0]}) | mean AUC {r['mean_auc']:.1f} worst {worst['auc']:.1f} ({worst['generator']}) "
              f"[{time.time() - t:.0f}s]\n   LOSO " + " ".join(f"{k}={v:.1f}" for k, v in lo.items())
              + "\n   held-out " + " ".join(f"{k}={v:.1f}" for k, v in r["heldout_by_source"].items())
              + "\n   AUC " + " ".join(f"{g}={a:.1f}" for g, a in r["auc"].items() if "@" not in g), flush=True)
        summary.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(summary.read_text()) if summary.is_file() else {}
        summary.write_text(json.dumps({**old, edit: r}, indent=1))
    return rows


def main(edits: list[str], artifact: Path = ROOT / "assets" / "default", out: Path = OUT,
         cfg=None, summary: Path | None = None) -> dict:
    """The edits' rows for `artifact` (default: the shipped model), appended to `summary` (default
    out/summary.json). `cfg`: other mixture settings for the artifact's features, refitted here (the full model
    too); default: the artifact's own model and settings."""
    torch.set_num_threads(2)
    sets = stage_cache(RUN)
    det, wkey = load_for_eval(artifact)
    refit = cfg is not None
    cfg = cfg or det.anomaly.config
    _, data = density_inputs(RUN, sets, det, wkey, cfg)
    tests = protocol.loso_test_faces(RUN, sets, data, network_trained=False)
    t = time.time()
    loso = {s: data.fit_model(cfg, leave_out=s) for s in tests}  # the protocol's left-out mixtures, fitted once
    model = data.fit_model(cfg) if refit else det.anomaly
    print(f"{len(loso)} left-out mixtures{' and the full one' if refit else ''} fitted in {time.time() - t:.0f} s",
          flush=True)
    cache = feature_dir(out, spectral_blocks(det.anomaly.experts))
    return edit_rows(sets, lambda fs, edit: features(det.features, fs, edit, cache), model, loso, tests, edits,
                     summary or out / "summary.json")


if __name__ == "__main__":
    names = sys.argv[1:] or list(EDITS)
    unknown = [n for n in names if n not in EDITS]
    if unknown:
        sys.exit(f"unknown edit(s) {unknown}; choose from {list(EDITS)}")
    main(names if "none" in names else ["none", *names])
