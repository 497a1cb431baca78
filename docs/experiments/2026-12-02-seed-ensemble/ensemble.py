"""Several random networks instead of one: does an ensemble of seeds make the verdicts less a matter of luck?

The shipped model embeds faces with one untrained ResNet-18 (seed 0). The protocol's mean AUC moves by ~4 points
with the seed (seeds 0 / 1 / 2: 79.2 / 74.9 / 75.8), so which random features a user gets is luck, and the hidden
evaluation sees one draw. Here the embeddings of several seed networks (their artifacts from
docs/experiments/2026-12-01-generalization/seeds.py, cached embeddings reused) enter the shipped product of experts
(log spectrum 111 + axis profile PCA-32 as shipped), two ways:

- `poe:S1,S2,..`  one embedding expert per network (each PCA-128, K=8, as shipped), log-likelihoods summed;
- `cat:S1,S2,..`  the networks' embeddings concatenated (each block scaled to unit total variance on the pretext
                  split), one embedding expert on PCA-D of the concatenation (`cat256:..` for D = 256; default 128);
- `one:S`         the shipped kind with network S (reproduces seeds.py's row through this harness).

Same splits, threshold by source and protocol (leave-one-source-out refits every expert without the source).

    python docs/experiments/2026-12-02-seed-ensemble/ensemble.py one:0 poe:0,1,2 cat:0,1,2
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-01-spectrum-fusion"))

from fusion import RUN, artifact, block_scale, report

from detector.anomaly import GMMConfig
from train import protocol
from train.embed import spectrum_features
from train.stages import load_for_eval, network_features, stage_cache


class EnsembleConfig(GMMConfig):
    """The shipped settings, with the embedding expert repeated once per network (or widened). With more than one
    expert, detector.product.fit_density (every fit of DensityData: final, folds, left-out) builds a ProductModel
    of `experts()` on the blocks' widths."""

    blocks: ClassVar[dict[str, int]] = {}

    def experts(self) -> dict[str, GMMConfig]:
        base = GMMConfig(**asdict(self))
        one = replace(base, spectrum_dim=None, axis_dim=None)
        return {k: replace(one, pca_dim=d) for k, d in self.blocks.items()}


def main(names: list[str]) -> None:
    sets = stage_cache(RUN)
    spectral = {k: spectrum_features(RUN, k) for k in ("spectrum", "axis")}
    nets: dict[int, object] = {}

    def net(seed: int):
        if seed not in nets:
            nets[seed] = network_features(RUN, *load_for_eval(artifact(seed)))
        return nets[seed]

    for name in names:
        kind, seeds = name.split(":")
        seeds_ = [int(s) for s in seeds.split(",")]
        dim = int(kind[3:] or 128)
        if kind.startswith("cat"):
            parts = [net(s) for s in seeds_]
            scales = [block_scale(p, sets) for p in parts]
            emb = {"embedding": lambda f, d, ps=parts, ss=scales: {
                k: np.concatenate([p(f, d)[k] / s for p, s in zip(ps, ss)], 1).astype(np.float32)
                for k in f}}
            dims = {"embedding": dim}
        else:
            emb = {f"embedding{i or ''}": net(s) for i, s in enumerate(seeds_)}
            dims = dict.fromkeys(emb, 128)
        blocks = {**emb, **spectral}
        EnsembleConfig.blocks = {**dims, "spectrum": RUN.gmm.spectrum_dim, "axis": RUN.gmm.axis_dim}
        cfg = EnsembleConfig(**asdict(RUN.gmm))

        def feats(faces, degrade, blocks=blocks):
            parts = [b(faces, degrade) for b in blocks.values()]
            return {k: np.concatenate([p[k] for p in parts], 1).astype(np.float32) for k in parts[0]}

        one = next(iter(sets.split("pretext").values()))
        widths = {k: b({"x": one}, "none")["x"].shape[1] for k, b in blocks.items()}
        t = time.time()
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies, widths)
        res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), ("none",), (data, cfg))["none"]
        report(f"ensemble-{name.replace(':', '-').replace(',', '')}", 0, res, time.time() - t)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="+")
    main(ap.parse_args().names)
