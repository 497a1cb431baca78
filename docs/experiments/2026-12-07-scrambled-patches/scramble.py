"""The embedding expert on spatially scrambled patches: does taking the face's layout away from the random network
help it see generation traces (StyleGAN3 is at chance) without flagging unseen photo sources?

The issue names the authors' TPAMI follow-up, which scrambles patches to suppress semantics. With pretext training
it was screened in an earlier round on high-pass input (docs/experiments/2026-12-01-generalization: mean AUC 64.6,
worst left-out source 17.3%); the shipped network is untrained and RGB, so the question is asked again of it. Each
224 px crop is cut into a g x g grid and its patches shuffled by a permutation fixed per face (seeded by the crop's
pixels, so a face always gets the same one), then embedded by the shipped seed-0 network (its own JPEG q90 follows, as
for every crop). The ripple and axis experts stay as shipped (they see the unscrambled crop). Same mixtures, threshold
rule (by source) and protocol (every generator at native and half size, every source left out) as the shipped model.

    python docs/experiments/2026-12-07-scrambled-patches/scramble.py 4 7     # grids; ~12 min each on 2 cores
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-01-spectrum-fusion"))

from fusion import RUN, artifact, report  # noqa: E402

from detector.product import block_widths, spectral_blocks  # noqa: E402
from train import protocol  # noqa: E402
from train.embed import cached_features  # noqa: E402
from train.stages import load_for_eval, network_features, stage_cache  # noqa: E402


def scramble(crop: np.ndarray, grid: int) -> np.ndarray:
    """The crop's g x g patches in a per-face random order (the crop's size must be divisible by `grid`)."""
    c = np.asarray(crop)
    n = c.shape[0] // grid
    rng = np.random.default_rng(int(c[::8, ::8].sum()))
    patches = [c[i * n:(i + 1) * n, j * n:(j + 1) * n] for i in range(grid) for j in range(grid)]
    order = rng.permutation(len(patches))
    rows = [np.concatenate([patches[order[i * grid + j]] for j in range(grid)], 1) for i in range(grid)]
    return np.ascontiguousarray(np.concatenate(rows, 0))


def scrambled(det, wkey: str, spectral: tuple[str, ...], grid: int):
    """A Featurize: the shipped features with the embedding columns replaced by the scrambled crop's embedding."""
    shipped, dim = network_features(RUN, det, wkey, spectral), det.model.cfg.embed_dim

    def emb(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        return {k: cached_features(lambda c: det.embed([scramble(x, grid) for x in c]), fs.crops,
                                   RUN.run_dir / "embeddings", f"scramble{grid}-{wkey}-{fs.id}", degrade, RUN.augment)
                for k, fs in faces.items()}

    def feats(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        z, e = shipped(faces, degrade), emb(faces, degrade)
        return {k: np.concatenate([e[k], v[:, dim:]], axis=1) for k, v in z.items()}

    return feats


def main(grids: list[int], seed: int) -> None:
    bad = [g for g in grids if RUN.crop.size % g]
    if bad:  # before any grid runs: each takes ~11 min
        sys.exit(f"grid(s) {bad} do not divide the {RUN.crop.size} px crop")
    sets = stage_cache(RUN)
    det, wkey = load_for_eval(artifact(seed))
    cfg = det.anomaly.config
    spectral = spectral_blocks(cfg.experts())
    widths = block_widths(det.model.cfg.embed_dim, RUN.crop, spectral)
    for grid in grids:
        t = time.time()
        feats = scrambled(det, wkey, spectral, grid)
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies, widths)
        res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), ("none",), (data, cfg))["none"]
        report(f"scramble{grid}-ripple", seed, res, time.time() - t)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("grids", type=int, nargs="+")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    main(a.grids, a.seed)
