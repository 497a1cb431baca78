"""How much does the shipped model's protocol result depend on the random network's seed?

The default ships an untrained, seeded ResNet-18 (seed 0). This rebuilds the same model with other seeds - same
cache, splits, density and protocol as `python -m train all --config train/configs/default.toml` - and prints the
protocol's headline numbers for each.

    python docs/experiments/2026-12-01-generalization/seeds.py 1 2

`python -m train seeds` (train.stages.stage_seeds) now does the same for the config's `[eval] seeds` and keeps the
results for the model card's seed spread; this script stays as the record of the runs that used it.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from train import protocol  # noqa: E402
from train.config import load_config  # noqa: E402
from train.pretext import random_init_weights  # noqa: E402
from train.stages import evaluate_artifact, load_for_eval, stage_cache, stage_gmm  # noqa: E402


def main(seeds: list[int]) -> None:
    run = load_config(ROOT / "train/configs/default.toml")
    sets = stage_cache(run)
    for seed in seeds:
        cfg = replace(run.pretext, seed=seed)
        base = run.run_dir / "seeds" / f"seed{seed}"
        artifact = stage_gmm(run, sets, random_init_weights(cfg, base / "pretext"), base / "artifact", pretext_cfg=cfg)
        r = evaluate_artifact(run, sets, *load_for_eval(artifact))["none"]
        print(f"seed {seed}: {protocol.summary(r, native_only=True)}", flush=True)


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [1, 2])
