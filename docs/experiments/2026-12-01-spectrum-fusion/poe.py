"""A product of experts instead of one joint mixture: the shipped density on the network embedding (PCA-128, K=8)
and the log-spectrum density (PCA-64, K=8), each fitted on its own block; a face's score is the sum of the two
log-likelihoods (`poe`: the blocks taken as independent) or of the two standardized by their out-of-source
reference scores (`poez`: median 0, interquartile range 1, so neither block's scale decides). The threshold is the
5% point of the summed out-of-source scores of every fit and calibration face (each block's mixture fitted
without the face's photo source), as in the shipped calibration by source.

    python docs/experiments/2026-12-01-spectrum-fusion/poe.py --seeds 0 1 2 -- poe poez
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from fusion import RUN, artifact, joint, report

from detector.anomaly import AnomalyModel
from detector.product import ProductModel
from train import protocol
from train.embed import spectrum_features
from train.stages import load_for_eval, network_features, stage_cache

NET_DIM = 768
CFG = replace(RUN.gmm, spectrum_dim=64, axis_dim=None)  # the embedding's mixture (PCA-128) and the spectrum's (PCA-64), K=8 each


class PoE:
    def __init__(self, net: AnomalyModel, spec: AnomalyModel, ref_net: np.ndarray, ref_spec: np.ndarray,
                 standardize: bool, far: float) -> None:
        self.net, self.spec, self.far = net, spec, far
        self.norm = [(0.0, 1.0), (0.0, 1.0)]
        if standardize:
            self.norm = [(np.median(r), np.subtract(*np.percentile(r, [75, 25]))) for r in (ref_net, ref_spec)]
        self.reference_scores = np.sort(self._combine(ref_net, ref_spec))

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        (ma, sa), (mb, sb) = self.norm
        return (a - ma) / sa + (b - mb) / sb

    def score(self, z: np.ndarray) -> np.ndarray:
        return self._combine(self.net.score(z[:, :NET_DIM]), self.spec.score(z[:, NET_DIM:]))

    def threshold(self) -> float:
        return float(np.quantile(self.reference_scores, self.far))


@dataclass
class PoEData(protocol.DensityData):
    standardize: bool = False

    def fit_model(self, cfg, leave_out=None):
        """Both experts calibrated by source (detector.product.ProductModel); their per-face out-of-source scores
        combined here, plainly or standardized."""
        z, folds = self.by_source(leave_out)
        widths = {"embedding": NET_DIM, "spectrum": z.shape[1] - NET_DIM}
        net, spec = ProductModel.fit(z[:0], CFG, widths, calibration=z, calibration_folds=folds).experts.values()
        return PoE(net, spec, net.calibration_scores, spec.calibration_scores, self.standardize, cfg.far)


def main(names: list[str], seeds: list[int]) -> None:
    sets = stage_cache(RUN)
    spec = spectrum_features(RUN)
    for seed in seeds:
        both = joint(network_features(RUN, *load_for_eval(artifact(seed))), spec, 1.0, 1.0)
        d = protocol.density_data(RUN, sets, both, RUN.gmm.calib_folds, RUN.augment.copies)
        for name in names:
            t = time.time()
            data = PoEData(d.fit, d.calib, d.folds, standardize=name == "poez")
            res = protocol.evaluate(RUN, sets, both, data.fit_model(CFG), loso=(data, CFG))["none"]
            report(name, seed, res, time.time() - t)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("names", nargs="*", default=["poe", "poez"])
    a = ap.parse_args()
    main(a.names, a.seeds)
