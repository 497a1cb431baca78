"""How are real faces scored when their photo is large? A proxy for the hidden set's 1024 px portraits.

Every real photo in the data is at most 512 px, so no face in the fit, calibration or held-out sets is wider than
~240 px, while the issue's unseen 1024 px portraits (flagged at 40% by an earlier model) have faces 400-600 px wide.
One thing such photos differ in is measurable here: the JPEG the photo was saved with is done at full size, so after
the crop shrinks the face to the 128 px detail cap the 8 px compression blocks of the photo are invisible, where on
every training face they still show. The proxy: each held-out real photo enlarged `s` times (bicubic) BEFORE the
evaluation's JPEG q90, then the CLI's own path (find faces, largest face, crop, features, score) with the shipped
model. The face keeps the detail it had (faces wider than the cap already reach it) and loses the visible blocks.
Fakes go through the same path at s = 1 for the AUCs.

    python docs/experiments/2026-12-02-large-faces/large.py --scales 1 2 3
    python docs/experiments/2026-12-02-large-faces/large.py --scales 1 --first-jpeg 95   # q95, then the q90
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from detector.imageio import load_image
from detector.pipeline import Detector
from train.cache import FaceSet, ImagePrep, list_images
from train.config import load_config
from train.metrics import detection_metrics
from train.stages import stage_cache

RUN = load_config(ROOT / "train/configs/default.toml")
OUT = ROOT / "runs" / "large-faces"


def largest_crop(det: Detector, rgb: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(crop, face width in px) of the largest face in `rgb` - what the CLI scores - or None if no face is found."""
    faces = det.find_faces(rgb)
    if not faces:
        return None
    f = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    return det.crop(rgb, [f])[0].image, float(f.box[2] - f.box[0])


def largest_score(det: Detector, rgb: np.ndarray) -> tuple[float, float] | None:
    """(log-likelihood, face width in px) of the largest face in `rgb`, or None if no face is found."""
    found = largest_crop(det, rgb)
    if found is None:
        return None
    crop, width = found
    return float(det.anomaly.score(det.features([crop]))[0]), width


def chained(*preps: ImagePrep):
    """The preps applied in order (a photo re-encoded, then re-encoded again)."""
    def prep(rgb: np.ndarray) -> np.ndarray:
        for p in preps:
            rgb = p(rgb)
        return rgb
    return prep


def photo_files(fs: FaceSet) -> list[Path]:
    """The photos a cached face set's faces come from, once each (a face set of one split)."""
    return [Path(fs.files[i]) for i in sorted(set(fs.file_idx.tolist()))]


def artifact_key(det: Detector) -> str:
    """A short hash of the artifact's config.json (weights, experts, fit): cached scores are per model (train.embed's
    model_key hashes the weights alone, which models with other experts share)."""
    return hashlib.sha1(json.dumps(det.config, sort_keys=True).encode()).hexdigest()[:10]


def scores(det: Detector, files: list[Path], prep, tag: str) -> np.ndarray:
    path = OUT / artifact_key(det) / f"{tag}.npy"
    if path.is_file():
        return np.load(path)
    out = []
    for p in files:
        r = largest_score(det, prep(load_image(p)))
        out.append(r if r is not None else (np.nan, np.nan))
    z = np.array(out, dtype=np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, z)
    return z


def main(scales: list[float], artifact: Path, first_jpeg: int | None = None) -> None:
    torch.set_num_threads(1)
    sets = stage_cache(RUN)
    det = Detector.load(artifact)
    thr = det.anomaly.threshold()
    held = sets.split("heldout")
    real = {}
    for k, fs in held.items():
        files = photo_files(fs)
        for s in scales:
            t = time.time()
            if first_jpeg:  # the whole photo re-encoded at first_jpeg before the evaluation's own JPEG
                prep = chained(ImagePrep(s, first_jpeg), ImagePrep(1.0, RUN.data.eval_jpeg))
                z = scores(det, files, prep, f"real-{k}-x{s:g}-q{first_jpeg}")
            else:
                z = scores(det, files, ImagePrep(s, RUN.data.eval_jpeg), f"real-{k}-x{s:g}")
            real[(k, s)] = z
            ok = ~np.isnan(z[:, 0])
            print(f"{k} x{s:g}: {ok.sum()}/{len(z)} faces, median width {np.nanmedian(z[:, 1]):.0f} px, "
                  f"flagged {100 * np.mean(z[ok, 0] < thr):.1f}% [{time.time() - t:.0f}s]", flush=True)
    fakes = {}
    for g, folder in RUN.data.fake.items():
        fakes[g] = scores(det, list_images(folder), ImagePrep(1.0, RUN.data.eval_jpeg), f"fake-{g}")[:, 0]
    summary = {}
    for s in scales:
        r = np.concatenate([real[(k, s)][:, 0] for k in held])
        r = r[~np.isnan(r)]
        per = {g: detection_metrics(r, f[~np.isnan(f)], thr)["auc"] for g, f in fakes.items()}
        summary[f"x{s:g}"] = {"flagged": {k: 100 * float(np.nanmean(real[(k, s)][:, 0] < thr)) for k in held},
                              "flagged_all": 100 * float(np.mean(r < thr)), "auc": per,
                              "mean_auc": float(np.mean(list(per.values())))}
        print(f"x{s:g}: flagged {summary[f'x{s:g}']['flagged_all']:.1f}% "
              + " ".join(f"{k}={v:.1f}" for k, v in summary[f"x{s:g}"]["flagged"].items())
              + f" | AUC vs native fakes mean {summary[f'x{s:g}']['mean_auc']:.1f} "
              + " ".join(f"{g}={a:.1f}" for g, a in per.items()), flush=True)
    (OUT / artifact_key(det) / f"summary{f'-q{first_jpeg}' if first_jpeg else ''}.json").write_text(
        json.dumps(summary, indent=1))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=float, nargs="+", default=[1, 2, 3])
    ap.add_argument("--artifact", type=Path, default=ROOT / "assets" / "default")
    ap.add_argument("--first-jpeg", type=int, default=None)
    a = ap.parse_args()
    main(a.scales, a.artifact, a.first_jpeg)
