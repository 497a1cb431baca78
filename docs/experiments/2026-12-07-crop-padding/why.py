"""Why is UTKFace left out flagged under a tone-blind input? Per expert and per face, luma vs the shipped RGB.

For the left-out source, the density is fitted and calibrated without it (train.protocol, as the card's check), and
each of its unseen faces' score is split into the experts' log-likelihoods; each expert's share is put on the scale
of its own reference scores (the by-source calibration scores: percentile among faces of other, unseen sources).
Flagged faces are then described by their tone (train.metrics.tone_stats), face width in source pixels, age (from
UTKFace's file names) and the share of their crop that is replicated border (padding.pad_fraction); `--pad` also
prints that share for every source's and generator's faces.

    python docs/experiments/2026-12-07-crop-padding/why.py --input luma --source utkface   # 1 min, cached features
    python docs/experiments/2026-12-07-crop-padding/why.py --input none --pad
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-photo-edits"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import variants  # noqa: E402,F401  (registers the experiment-only filters)
from padding import flagged_by_padding, pad_fraction, padding_line, shipped_features  # noqa: E402
from detector.product import _columns  # noqa: E402
from train import protocol  # noqa: E402
from train.config import load_config  # noqa: E402
from train.embed import cached_features  # noqa: E402
from train.metrics import tone_stats  # noqa: E402
from train.stages import stage_cache  # noqa: E402

RUN = load_config(ROOT / "train/configs/default.toml")
FEATS = ROOT / "runs" / "tone-matched-auc" / "features"


def harness(input_filter: str, seed: int = 0):
    sets = stage_cache(RUN)
    _, cfg, widths, base = shipped_features(RUN)
    net = variants.network(RUN, input_filter, seed) if input_filter != "none" else None

    def feats(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        b = base(faces, degrade)
        if net is None:
            return b
        e = {k: cached_features(lambda c: net._features(c, ()), fs.crops, FEATS, f"{input_filter}{seed}-{fs.id}",
                                degrade, RUN.augment) for k, fs in faces.items()}
        return {k: np.concatenate([e[k], b[k][:, widths["embedding"]:]], axis=1) for k in b}

    return sets, cfg, widths, feats


def pad_table(sets) -> None:
    """The replicated-border share of the crops, per source (every face) and generator."""
    for group in (sets.real_eval, sets.exif_eval, sets.fake):
        for k, fs in group.items():
            p = np.array([pad_fraction(c) for c in fs.crops])
            print(f"  {k:20s} {len(p):5d} faces: padded at all {100 * np.mean(p > 0.01):5.1f}%, mean padded share "
                  f"{100 * p.mean():5.1f}%, 90th percentile {100 * np.quantile(p, 0.9):5.1f}%")


def main(input_filter: str, source: str, pad: bool) -> None:
    torch.set_num_threads(2)
    sets, cfg, widths, feats = harness(input_filter)
    data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, 0, widths)
    faces = protocol.loso_test_faces(RUN, sets, data, network_trained=False)[source]
    z = np.concatenate([feats({source: fs}, "none")[source] for fs in faces])
    m = data.fit_model(cfg, leave_out=source)
    cols = _columns(widths, z.shape[1])
    part = {k: e.score(z[:, cols[k]]) for k, e in m.experts.items()}
    total = sum(part.values())
    flag = total < m.threshold()
    print(f"{input_filter}: {source} left out, {flag.sum()} of {len(z)} flagged ({100 * flag.mean():.1f}%)")
    for k, e in m.experts.items():
        ref = np.sort(e.calibration_scores)
        pct = 100 * np.searchsorted(ref, part[k]) / len(ref)
        print(f"  {k:9s} percentile among reference faces: flagged median {np.median(pct[flag]):5.1f}, "
              f"below 5th pct {np.mean(pct[flag] < 5) * 100:4.0f}% | not flagged median {np.median(pct[~flag]):5.1f}")
    crops = np.concatenate([fs.crops for fs in faces])
    tone = tone_stats(crops)
    files = [fs.files[i] for fs in faces for i in fs.file_idx]
    boxes = np.concatenate([fs.boxes for fs in faces]) if all(fs.boxes is not None for fs in faces) else None
    print(f"  brightness flagged {np.median(tone[flag, 0]):.2f} vs {np.median(tone[~flag, 0]):.2f}; face contrast "
          f"{np.median(tone[flag, 1]):.3f} vs {np.median(tone[~flag, 1]):.3f}")
    if boxes is not None:
        w = boxes[:, 2] - boxes[:, 0]
        print(f"  face width flagged {np.median(w[flag]):.0f} vs {np.median(w[~flag]):.0f} px")
    pad_share = np.array([pad_fraction(c) for c in crops])
    print("  " + padding_line(flagged_by_padding(flag, pad_share)))
    if source == "utkface":
        age = np.array([int(Path(f).name.split("_")[0]) for f in files])
        print("  by age: " + "; ".join(
            f"{a}-{b}: {100 * flag[s].mean():.1f}% of {s.sum()} (mean padded share {100 * pad_share[s].mean():.0f}%)"
            for a, b in ((0, 3), (4, 12), (13, 30), (31, 60), (61, 200)) for s in [(age >= a) & (age <= b)]))
    if pad:
        pad_table(sets)
    out = ROOT / "runs" / "crop-padding"
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / f"why-{input_filter}-{source}.npz", total=total, flag=flag, tone=tone,
             **{f"part_{k}": v for k, v in part.items()}, files=np.array(files))
    order = np.argsort(total)[:12]
    print("  lowest:", ", ".join(f"{Path(files[i]).name}" for i in order))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", choices=["luma", "tone", "none"], default="luma")
    ap.add_argument("--source", default="utkface")
    ap.add_argument("--pad", action="store_true")
    a = ap.parse_args()
    main(a.input, a.source, a.pad)
