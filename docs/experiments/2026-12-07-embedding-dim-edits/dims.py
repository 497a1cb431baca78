"""Fewer principal components for the embedding expert: is a coarser embedding density less moved by the photo
edits that still flag unseen sources (unsharp mask, 3x3 sharpening, local contrast), and at what cost?

The photo-edits record (docs/experiments/2026-12-02-photo-edits, section "The shipped ripple model") found local
contrast (clahe) mostly moves the embedding expert (median log-likelihood -27) and sharpening all three experts.
The embedding mixture lives on 128 whitened principal components; the last of them carry the smallest variance,
where a small edit is largest relative to the spread. Same network, same ripple and axis experts, same rule;
only GMMConfig.pca_dim changes. Features come from edits.py's cache (run it first for sharpen sharpen_k clahe).

    python docs/experiments/2026-12-07-embedding-dim-edits/dims.py 128 64 32     # ~11 min a setting, 2 cores
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-photo-edits"))

import edits  # noqa: E402
from train.stages import load_for_eval  # noqa: E402

OUT = ROOT / "runs" / "embedding-dim-edits"


def main(dims: list[int], names: list[str]) -> None:
    """edits.py's rows with the shipped features and every setting of the shipped model but the embedding's
    pca_dim, refitted (full and left-out mixtures), one summary file per setting."""
    artifact = ROOT / "assets" / "default"
    shipped = load_for_eval(artifact)[0].anomaly.config
    for dim in dims:
        print(f"== embedding PCA-{dim}", flush=True)
        edits.main(names, artifact, cfg=replace(shipped, pca_dim=dim), summary=OUT / f"pca{dim}.json")


if __name__ == "__main__":
    args = sys.argv[1:]
    main([int(a) for a in args if a.isdigit()] or [128, 64, 32], ["none", "sharpen", "sharpen_k", "clahe"])
