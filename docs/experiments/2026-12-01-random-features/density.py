"""Does the density's space explain the seed spread? The mixture refitted on the cached embeddings of the three
seed networks (seed 0 = the default run's artifact, seeds 1 and 2 from seeds.py), threshold by source, the
validation protocol for each.

    python docs/experiments/2026-12-01-random-features/density.py pca32 pca64 pca128 pca256 k1

- `pcaD` the default mixture (K=8, full covariance) on the first D whitened principal components;
- `kK`   K components on PCA-64.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from train import protocol  # noqa: E402
from train.config import load_config  # noqa: E402
from train.stages import load_for_eval, network_features, stage_cache  # noqa: E402

RUN = load_config(ROOT / "train/configs/default.toml")
ARTIFACTS = {0: RUN.run_dir / "artifact", 1: RUN.run_dir / "seeds/seed1/artifact", 2: RUN.run_dir / "seeds/seed2/artifact"}


def gmm_config(name: str):
    if name.startswith("pca"):
        return replace(RUN.gmm, pca_dim=int(name[3:]), spectrum_dim=None, axis_dim=None)  # the embedding alone
    if name.startswith("k"):
        return replace(RUN.gmm, n_components=int(name[1:]), spectrum_dim=None, axis_dim=None)
    raise SystemExit(f"unknown variant {name}")


def main(names: list[str]) -> None:
    sets = stage_cache(RUN)
    for seed, artifact in ARTIFACTS.items():
        feats = network_features(RUN, *load_for_eval(artifact))
        data = protocol.density_data(RUN, sets, feats, RUN.gmm.calib_folds, RUN.augment.copies)
        for name in names:
            t, cfg = time.time(), gmm_config(name)
            res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), loso=(data, cfg))["none"]
            print(f"seed {seed} {name}: {protocol.summary(res, native_only=True)} [{time.time() - t:.0f}s]", flush=True)
            dest = ROOT / "runs" / "random-features" / f"density-{name}-seed{seed}.json"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main(sys.argv[1:] or ["pca32", "pca64", "pca128", "pca256"])
