"""A mirror-invariant embedding: does averaging the random network's embedding of a face and of its mirror image help?

The shipped embedding expert is an untrained ResNet-18: its features respond to where things are in the crop, so a
face turned left and the same face turned right land in different places, and the mixture spends components on
pose. A mirrored photo is as photographic as the photo, so the mean of the two embeddings keeps everything the
density should see and drops one nuisance. The spectral experts are mirror-invariant already and stay as shipped.
Same mixtures, threshold rule and protocol as the shipped model.

    python docs/experiments/2026-12-02-flip-average/flip.py --seeds 0
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

from fusion import RUN, artifact, report

from detector.product import block_widths, spectral_blocks
from train import protocol
from train.embed import cached_features
from train.stages import load_for_eval, network_features, stage_cache


def mirror_averaged(det, wkey: str, spectral: tuple[str, ...]):
    """A Featurize (train.protocol): the shipped features (network_features) with the embedding columns replaced by
    the mean of the embeddings of each crop and of its mirror image."""
    shipped, dim = network_features(RUN, det, wkey, spectral), det.model.cfg.embed_dim

    def mirrored(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        return {k: cached_features(lambda c: det.embed([np.ascontiguousarray(x[:, ::-1]) for x in c]), fs.crops,
                                   RUN.run_dir / "embeddings", f"mirror-{wkey}-{fs.id}", degrade, RUN.augment)
                for k, fs in faces.items()}

    def feats(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        z, m = shipped(faces, degrade), mirrored(faces, degrade)
        return {k: np.concatenate([(v[:, :dim] + m[k]) / 2, v[:, dim:]], axis=1) for k, v in z.items()}

    return feats


def main(seeds: list[int]) -> None:
    sets = stage_cache(RUN)
    for seed in seeds:
        det, wkey = load_for_eval(artifact(seed))
        cfg = det.anomaly.config
        spectral = spectral_blocks(cfg.experts())
        feats = mirror_averaged(det, wkey, spectral)
        t = time.time()
        widths = block_widths(det.model.cfg.embed_dim, RUN.crop, spectral)
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies, widths)
        res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), ("none",), (data, cfg))["none"]
        report("mirror-averaged", seed, res, time.time() - t)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    main(ap.parse_args().seeds)
