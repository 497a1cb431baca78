"""Fewer principal components for the embedding expert: is a coarser embedding density less moved by the photo
edits that still flag unseen sources (unsharp mask, 3x3 sharpening, local contrast), and at what cost?

The photo-edits record (docs/experiments/2026-12-02-photo-edits, section "The shipped ripple model") found local
contrast (clahe) mostly moves the embedding expert (median log-likelihood -27) and sharpening all three experts.
The embedding mixture lives on 128 whitened principal components; the last of them carry the smallest variance,
where a small edit is largest relative to the spread. Same network, same ripple and axis experts, same rule;
only GMMConfig.pca_dim changes. Features come from edits.py's cache (run it first for sharpen sharpen_k clahe).

    python docs/experiments/2026-12-07-embedding-dim-edits/dims.py 128 64 32     # ~12 min a setting, 2 cores
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-photo-edits"))

import edits  # noqa: E402
from detector.product import spectral_blocks  # noqa: E402
from train import protocol  # noqa: E402
from train.stages import density_inputs, load_for_eval, stage_cache  # noqa: E402

OUT = ROOT / "runs" / "embedding-dim-edits"


def main(dims: list[int], names: list[str]) -> None:
    torch.set_num_threads(2)
    sets = stage_cache(edits.RUN)
    det, wkey = load_for_eval(ROOT / "assets" / "default")
    cache = edits.feature_dir(edits.OUT, spectral_blocks(det.anomaly.experts))
    feats = lambda fs, edit: edits.features(det.features, fs, edit, cache)  # noqa: E731
    for dim in dims:
        t = time.time()
        cfg = replace(det.anomaly.config, pca_dim=dim)
        _, data = density_inputs(edits.RUN, sets, det, wkey, cfg)
        tests = protocol.loso_test_faces(edits.RUN, sets, data, network_trained=False)
        model = data.fit_model(cfg)
        loso = {s: data.fit_model(cfg, leave_out=s) for s in tests}
        print(f"== embedding PCA-{dim}: {len(loso)} left-out mixtures + the full one in {time.time() - t:.0f} s",
              flush=True)
        edits.edit_rows(sets, feats, model, loso, tests, names, OUT / f"pca{dim}.json")


if __name__ == "__main__":
    args = sys.argv[1:]
    main([int(a) for a in args if a.isdigit()] or [128, 64, 32], ["none", "sharpen", "sharpen_k", "clahe"])
