"""Does the shipped model's verdict depend on the face's size in its photo?

Faces under the 128 px detail cap are enlarged, faces above it shrunk; unseen photo sources (web photos, group
shots) hold many small faces. For the shipped default (seed 0, existing runs/ cache) this prints, per bin of the
detector-box width in source pixels: the share of real faces flagged when their whole source was left out (the
by-source reference scores: every fit and calibration face scored by a mixture without its source), held-out
faces flagged, and each generator's AUC against the held-out faces of the same bin.

    python docs/experiments/2026-12-02-face-size/by_size.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from train.config import load_config
from train.metrics import detection_metrics
from train.stages import density_inputs, load_for_eval, stage_cache

BINS = [0, 48, 80, 112, 160, 240, 10_000]


def widths(faces: dict) -> dict[str, np.ndarray]:
    return {k: fs.boxes[:, 2] - fs.boxes[:, 0] for k, fs in faces.items()}


def label(i: int) -> str:
    return f"{BINS[i]}-{BINS[i + 1]}" if BINS[i + 1] < 10_000 else f">{BINS[i]}"


def main(artifact: Path) -> None:
    run = load_config(ROOT / "train/configs/default.toml")
    sets = stage_cache(run)
    det, wkey = load_for_eval(artifact)
    feats, data = density_inputs(run, sets, det, wkey, det.anomaly.config)
    model = data.fit_model(det.anomaly.config)
    thr = model.threshold()
    # out-of-source reference scores, in DensityData.by_source order, with each face's width and source
    sources = list(dict.fromkeys([*data.fit, *data.calib]))
    w_ref, src_ref = [], []
    for k in sources:
        for split in (*run.data.gmm_from, *run.data.calibrate_on):
            fs = sets.split(split).get(k)
            if fs is not None:
                w_ref.append(fs.boxes[:, 2] - fs.boxes[:, 0])
                src_ref.append(np.full(len(fs), k))
    w_ref, src_ref = np.concatenate(w_ref), np.concatenate(src_ref)
    ref = model.calibration_scores if hasattr(model, "calibration_scores") and model.calibration_scores is not None \
        else None
    if ref is None:  # product: per-face sums in by_source order
        ref = np.sum([m.calibration_scores for m in model.experts.values()], axis=0)
    assert len(ref) == len(w_ref), (len(ref), len(w_ref))
    held = sets.split("heldout", evaluation=True)
    s_held = {k: model.score(v) for k, v in feats(held, "none").items()}
    w_held = widths(held)
    s_fake = {g: model.score(v) for g, v in feats(sets.fake, "none").items()}
    w_fake = widths(sets.fake)
    hr, hw = np.concatenate(list(s_held.values())), np.concatenate(list(w_held.values()))
    b_ref, b_held = np.digitize(w_ref, BINS) - 1, np.digitize(hw, BINS) - 1
    print(f"threshold {thr:.2f}")
    print("| face width (px) | out-of-source reals: n, flagged % | by source (n) | held-out reals: n, flagged % |")
    for i in range(len(BINS) - 1):
        m = b_ref == i
        per = " ".join(f"{k}:{int(np.sum(m & (src_ref == k)))}" for k in sources if np.any(m & (src_ref == k)))
        h = b_held == i
        print(f"| {label(i)} | {m.sum()}, {100 * np.mean(ref[m] < thr) if m.any() else float('nan'):.1f} | {per} | "
              f"{h.sum()}, {100 * np.mean(hr[h] < thr) if h.any() else float('nan'):.1f} |")
    print("\nper generator: n faces per width bin, and AUC against held-out reals of the same bin (n >= 20 each)")
    print("| generator | " + " | ".join(label(i) for i in range(len(BINS) - 1)) + " | all |")
    for g, s in s_fake.items():
        b = np.digitize(w_fake[g], BINS) - 1
        cells = []
        for i in range(len(BINS) - 1):
            f, r = s[b == i], hr[b_held == i]
            cells.append(f"{len(f)}: {detection_metrics(r, f, thr)['auc']:.0f}" if len(f) >= 20 and len(r) >= 20
                         else f"{len(f)}")
        print(f"| {g} | " + " | ".join(cells) + f" | {detection_metrics(hr, s, thr)['auc']:.1f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs/default/artifact")
