"""A size-aware score: each face's log-likelihood compared with photographic faces of its own size.

Small faces reach the model enlarged from a few dozen pixels: little detail, so every expert finds them likely. The
median out-of-source log-likelihood of real faces narrower than 32 px is about -290, of faces 64-200 px wide about
-375, and the 5% threshold (-524) is set by the pooled reference faces, so a small face - real or generated - is
almost never flagged (small.py). Here the score is standardized by face size before the threshold:

- `shift`:  score - m(w), m the median reference score at face width w;
- `scale`:  (score - m(w)) / d(w), d the reference scores' median minus their 5th percentile at width w;

m and d from the out-of-source reference scores (the faces the threshold is set on), in 8 equal-count bins by
width, interpolated linearly between bin centres and held constant outside them (faces larger than any reference
face keep the largest bin's m and d). The threshold is the 5% point of the standardized reference scores; LOSO refits
everything without the source. Same features, mixtures and protocol as the shipped model.

    python docs/experiments/2026-12-02-small-faces/sized.py --seeds 0 -- plain shift scale
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

from detector.anomaly import Reference
from detector.product import block_widths, fit_density, spectral_blocks
from train import protocol
from train.stages import load_for_eval, network_features, stage_cache

BINS = 8


def unsorted_references(model) -> np.ndarray:
    experts = getattr(model, "experts", None)
    return np.sum([m.calibration_scores for m in experts.values()], axis=0) if experts else model.calibration_scores


class SizeAware(Reference):
    """A fitted density whose scores are standardized by the reference faces' scores at the same face width; the
    face width (source pixels) rides along as the features' last column."""

    def __init__(self, density, ref_widths: np.ndarray, kind: str) -> None:
        self.density, self.kind, self.far = density, kind, density.far
        ref = unsorted_references(density)
        lw = np.log(np.maximum(ref_widths, 1.0))
        chunks = np.array_split(np.argsort(lw, kind="stable"), BINS)  # equal counts, whatever the ties
        self.centres = np.maximum.accumulate([np.median(lw[c]) for c in chunks]) + 1e-9 * np.arange(BINS)
        self.med = np.array([np.median(ref[c]) for c in chunks])
        self.spread = np.array([np.median(ref[c]) - np.percentile(ref[c], 5) for c in chunks])
        self.reference_scores = np.sort(self._standardize(ref, ref_widths))

    def _standardize(self, s: np.ndarray, w: np.ndarray) -> np.ndarray:
        lw = np.log(np.maximum(w, 1.0))
        if self.kind == "plain":
            return s
        z = s - np.interp(lw, self.centres, self.med)
        return z if self.kind == "shift" else z / np.interp(lw, self.centres, self.spread)

    def score(self, features: np.ndarray) -> np.ndarray:
        f = np.asarray(features)
        return self._standardize(self.density.score(f[:, :-1]), f[:, -1])


def per_generator(res: dict, key: str) -> str:
    """One metric of every generator row, half size included (fusion.report prints native sizes only)."""
    return " ".join(f"{g}={m[key]:.1f}" for g, m in res["per_generator"].items())


def with_width(feats):
    def out(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        z = feats(faces, degrade)
        return {k: np.concatenate([v, (faces[k].boxes[:, 2:3] - faces[k].boxes[:, 0:1]).astype(v.dtype)], 1)
                for k, v in z.items()}
    return out


def main(seeds: list[int], kinds: list[str]) -> None:
    sets = stage_cache(RUN)
    for seed in seeds:
        det, wkey = load_for_eval(artifact(seed))
        cfg = det.anomaly.config
        spectral = spectral_blocks(cfg.experts())
        feats = with_width(network_features(RUN, det, wkey, spectral))
        widths = block_widths(det.model.cfg.embed_dim, RUN.crop, spectral)
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies, widths)
        for kind in kinds:
            def fit(features, cfg, widths=None, calibration=None, calibration_folds=None, kind=kind):
                d = fit_density(features[:, :-1], cfg, widths, calibration[:, :-1], calibration_folds)
                return SizeAware(d, calibration[:, -1], kind)
            protocol.fit_density = fit
            t = time.time()
            model = data.fit_model(cfg)
            res = protocol.evaluate(RUN, sets, feats, model, ("none",), (data, cfg))["none"]
            report(f"sized-{kind}", seed, res, time.time() - t)
            print(f"   AUC {per_generator(res, 'auc')}\n   Acc {per_generator(res, 'acc')} mean {res['mean']['acc']:.1f}\n"
                  f"   centres(px) {np.exp(model.centres).round(0).tolist()} median {model.med.round(0).tolist()} "
                  f"spread {model.spread.round(0).tolist()}", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("kinds", nargs="*", default=["plain", "shift", "scale"])
    a = ap.parse_args()
    main(a.seeds, a.kinds)
