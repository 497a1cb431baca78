"""How many principal components should the spectrum expert keep? The shipped product of experts (network PCA-128,
K=8, plus the log-spectrum expert), through the shipped code path (train.stages.density_inputs, the protocol with
leave-one-source-out), with `[gmm] spectrum_dim` = each D given, on the seed networks of
docs/experiments/2026-12-01-generalization/seeds.py (run it first for seeds other than 0).

    python docs/experiments/2026-12-01-spectrum-fusion/spectrum_dim.py --seeds 0 1 2 -- 32 64 111
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from fusion import RUN, artifact, report

from train import protocol
from train.stages import density_inputs, load_for_eval, stage_cache


def main(dims: list[int], seeds: list[int]) -> None:
    sets = stage_cache(RUN)
    for seed in seeds:
        det, wkey = load_for_eval(artifact(seed))
        for dim in dims:
            cfg = replace(RUN.gmm, spectrum_dim=dim, axis_dim=None)  # the two experts, as when this ran
            t = time.time()
            feats, data = density_inputs(RUN, sets, det, wkey, cfg)
            res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), loso=(data, cfg))["none"]
            report(f"spectrum_dim{dim}", seed, res, time.time() - t)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("dims", type=int, nargs="*", default=[32, 64, 111])
    a = ap.parse_args()
    main(a.dims, a.seeds)
