"""The product of three experts with standardized scores: does weighting the experts equally help StyleGAN?

The shipped product sums the experts' log-likelihoods (embedding PCA-128, log spectrum 111, axis profile PCA-32).
A sum of log-likelihoods weights each expert by its spread, which grows with its dimension, so the 32-d axis expert
(the one that sees StyleGAN) counts least. `poez` standardizes each expert's score by its own out-of-source
reference scores (median 0, interquartile range 1; the references are the faces the threshold is set on, each
scored by a mixture fitted without its photo source) before summing. With two experts this traded half a point of
mean AUC for +3 on StyleGAN3 (docs/experiments/2026-12-01-spectrum-fusion). Same features, mixtures, references,
threshold rule and protocol as the shipped model; leave-one-source-out refits and re-standardizes without the source.

    python docs/experiments/2026-12-02-standardized-product/poez.py --seeds 0 1 2
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

from detector.product import ProductModel, _columns, fit_density
from train import protocol
from train.stages import density_inputs, load_for_eval, stage_cache


class Standardized(ProductModel):
    """A fitted ProductModel whose experts' scores are standardized by their reference scores before the sum."""

    def __init__(self, p: ProductModel) -> None:
        refs = {k: m.calibration_scores for k, m in p.experts.items()}
        self.stats = {k: (float(np.median(r)), float(np.subtract(*np.percentile(r, [75, 25])))) for k, r in refs.items()}
        z = np.sum([(refs[k] - a) / b for k, (a, b) in self.stats.items()], axis=0)
        super().__init__(p.experts, p.widths, z, p.far, p.config)

    def score(self, features: np.ndarray) -> np.ndarray:
        cols = _columns(self.widths, np.shape(features)[1])
        return np.sum([(m.score(np.asarray(features)[:, cols[k]]) - self.stats[k][0]) / self.stats[k][1]
                       for k, m in self.experts.items()], axis=0)


def main(seeds: list[int], kinds: list[str]) -> None:
    sets = stage_cache(RUN)
    for seed in seeds:
        det, wkey = load_for_eval(artifact(seed))
        cfg = det.anomaly.config
        feats, data = density_inputs(RUN, sets, det, wkey, cfg)
        for kind in kinds:
            protocol.fit_density = fit_density if kind == "poe" else (lambda *a, **k: Standardized(fit_density(*a, **k)))
            t = time.time()
            model = data.fit_model(cfg)
            res = protocol.evaluate(RUN, sets, feats, model, ("none",), (data, cfg))["none"]
            report(f"standardized-{kind}", seed, res, time.time() - t)
            if kind == "poez":
                print(f"   median, IQR of each expert's references: {model.stats}", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("kinds", nargs="*", default=["poez"])
    a = ap.parse_args()
    main(a.seeds, a.kinds)
