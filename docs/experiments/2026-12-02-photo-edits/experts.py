"""Which expert moves under each edit: held-out reals scored by each of the shipped model's experts alone, at that
expert's own 5% point (its reference scores), and the change of its median log-likelihood against no edit. Reads
edits.py's cached features (run it first).

    python docs/experiments/2026-12-02-photo-edits/experts.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import edits  # noqa: E402
from detector.product import _columns, spectral_blocks  # noqa: E402
from train.stages import load_for_eval, stage_cache  # noqa: E402


def main(artifact: Path = edits.ROOT / "assets" / "default", out: Path = edits.OUT) -> None:
    sets = stage_cache(edits.RUN)
    det, _ = load_for_eval(artifact)
    model = det.anomaly
    held = sets.split("heldout", evaluation=True)
    cache = edits.feature_dir(out, spectral_blocks(model.experts))
    print("| edit | " + " | ".join(f"{k}: flagged % / median shift" for k in model.experts) + " |")
    print("|---" * (1 + len(model.experts)) + "|")
    base = None
    for edit in edits.EDITS:
        path = [edits.cache_path(cache, fs, edit) for fs in held.values()]
        if not all(p.is_file() for p in path):
            continue
        z = np.concatenate([np.load(p) for p in path])
        cols = _columns(model.widths, z.shape[1])
        s = {k: m.score(z[:, cols[k]]) for k, m in model.experts.items()}
        med = {k: float(np.median(v)) for k, v in s.items()}
        base = base or med
        print(f"| {edit} | " + " | ".join(f"{100 * np.mean(s[k] < m.threshold()):.1f} / {med[k] - base[k]:+.1f}"
                                          for k, m in model.experts.items()) + " |")


if __name__ == "__main__":
    main()
