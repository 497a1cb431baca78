"""Small faces (group photos, thumbnails): is a verdict on them worth anything, and where should the app say so?

A user's FLUX group photo passed with all nine faces at percentiles 66-95 (issue 11). Faces that small reach the
model enlarged from a few dozen pixels, and the validation generators are only measured at native and half size.
Here every held-out real photo and every validation fake goes through the CLI's own path (evaluation JPEG q90, find
faces, largest face, crop, features, score with the shipped model) after the whole image is shrunk by `s`; the
output is, per detector-box width bin, the share of real faces flagged and each generator's AUC against the real
faces of the same bin (pooled over scales, so fakes and reals are compared at equal face size).

    python docs/experiments/2026-12-02-small-faces/small.py --scales 1 0.5 0.25
"""

from __future__ import annotations

import argparse
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-large-faces"))

from large import RUN, photo_files, scores

from detector.pipeline import Detector
from train.cache import ImagePrep, list_images
from train.metrics import detection_metrics
from train.stages import stage_cache

BINS = (0, 32, 48, 64, 96, 128, 10_000)


def main(scales: list[float], artifact: Path) -> None:
    torch.set_num_threads(1)
    sets = stage_cache(RUN)
    det = Detector.load(artifact)
    thr = det.anomaly.threshold()
    real, fake = [], {}
    for k, fs in sets.split("heldout").items():
        files = photo_files(fs)
        real += [scores(det, files, ImagePrep(s, RUN.data.eval_jpeg), f"real-{k}-x{s:g}") for s in scales]
    for g, folder in RUN.data.fake.items():
        files = list_images(folder)
        fake[g] = np.concatenate([scores(det, files, ImagePrep(s, RUN.data.eval_jpeg),
                                         f"fake-{g}" if s == 1 else f"fake-{g}-x{s:g}") for s in scales])
    r = np.concatenate(real)
    print(f"threshold {thr:.1f}; faces found: real {np.mean(~np.isnan(r[:, 0])):.0%}, "
          + " ".join(f"{g} {np.mean(~np.isnan(z[:, 0])):.0%}" for g, z in fake.items()))
    head = "| face width (px) | reals: n, flagged % | " + " | ".join(fake) + " | mean |"
    print(head + "\n" + "|---" * (len(fake) + 3) + "|")
    for lo, hi in pairwise(BINS):
        rin = r[(r[:, 1] >= lo) & (r[:, 1] < hi), 0]
        cells, aucs = [], []
        for z in fake.values():
            fin = z[(z[:, 1] >= lo) & (z[:, 1] < hi), 0]
            if len(fin) >= 20 and len(rin) >= 20:
                aucs.append(detection_metrics(rin, fin, thr)["auc"])
                cells.append(f"{aucs[-1]:.0f} ({len(fin)})")
            else:
                cells.append(f"- ({len(fin)})")
        mean = f"{np.mean(aucs):.1f}" if aucs else "-"
        print(f"| {lo}-{hi if hi < 10_000 else ''} | {len(rin)}, {100 * np.mean(rin < thr) if len(rin) else float('nan'):.1f} | "
              + " | ".join(cells) + f" | {mean} |", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=float, nargs="+", default=[1, 0.5, 0.25])
    ap.add_argument("--artifact", type=Path, default=ROOT / "assets" / "default")
    a = ap.parse_args()
    main(a.scales, a.artifact)
