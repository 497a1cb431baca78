"""Does a joint density on [network embedding, log power spectrum] beat either alone? The default run's network
(runs/default/artifact; seeds 1 and 2 from docs/experiments/2026-12-01-generalization/seeds.py) and the
log-spectrum reference features (train/reference.py), each block scaled to unit total variance (one scalar per
block, from the pretext split's real faces), concatenated, then the default mixture (K=8, full, threshold by
source) on the first D whitened principal components. The validation protocol for each.

    python docs/experiments/2026-12-01-spectrum-fusion/fusion.py net128 spec64 joint128 joint192 joint256
    python docs/experiments/2026-12-01-generalization/seeds.py 1 2    # the seed networks' artifacts
    python docs/experiments/2026-12-01-spectrum-fusion/fusion.py --seeds 1 2 -- net128 net256 joint256

- `netD`   network embedding alone, PCA-D (the shipped model when D = 128);
- `specD`  log spectrum alone, PCA-D, K=8 (the card's reference row uses K=4);
- `jointD` both blocks, PCA-D.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from train import protocol
from train.config import load_config
from train.embed import spectrum_features
from train.stages import load_for_eval, network_features, stage_cache

RUN = load_config(ROOT / "train/configs/default.toml")


def artifact(seed: int) -> Path:
    return RUN.run_dir / "artifact" if seed == 0 else RUN.run_dir / "seeds" / f"seed{seed}" / "artifact"


def block_scale(feats, sets) -> float:
    """sqrt of the total variance of a block's features on the pretext split (all real sources)."""
    z = np.concatenate(list(feats(sets.split("pretext"), "none").values()))
    return float(np.sqrt(z.astype(np.float64).var(0).sum()))


def joint(a, b, sa: float, sb: float):
    def feats(faces, degrade):
        fa, fb = a(faces, degrade), b(faces, degrade)
        return {k: np.concatenate([fa[k] / sa, fb[k] / sb], 1).astype(np.float32) for k in fa}
    return feats


def report(name: str, seed: int, res: dict, seconds: float) -> None:
    """Print the protocol's summary and keep the whole result as runs/spectrum-fusion/NAME-seedN.json."""
    print(f"seed {seed} {name}: {protocol.summary(res, native_only=True)} [{seconds:.0f}s]", flush=True)
    dest = ROOT / "runs" / "spectrum-fusion" / f"{name}-seed{seed}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(res, indent=1, default=float))


def main(names: list[str], seeds: list[int]) -> None:
    sets = stage_cache(RUN)
    spec = spectrum_features(RUN)
    for seed in seeds:
        net = network_features(RUN, *load_for_eval(artifact(seed)))
        both = joint(net, spec, block_scale(net, sets), block_scale(spec, sets))
        for name in names:
            kind, dim = name.rstrip("0123456789"), int(name.lstrip("abcdefghijklmnopqrstuvwxyz"))
            feats = {"net": net, "spec": spec, "joint": both}[kind]
            cfg = replace(RUN.gmm, pca_dim=dim, spectrum_dim=None, axis_dim=None)  # one mixture
            t = time.time()
            data = protocol.density_data(RUN, sets, feats, RUN.gmm.calib_folds, RUN.augment.copies)
            res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), loso=(data, cfg))["none"]
            report(name, seed, res, time.time() - t)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("names", nargs="*", default=["net128", "spec64", "joint128", "joint192"])
    a = ap.parse_args()
    main(a.names, a.seeds)
