"""Product of experts: one mixture per feature block (network embedding, spectral profiles), scores summed.

A face's score is the sum of its blocks' log-likelihoods, i.e. the log-likelihood under the product of the
densities, taken as independent. Why not one mixture on both blocks: the joint mixture let one block's scale and
dimension decide, and flagged 11% of a left-out photo source; the product was better than the embedding alone
on every generator summary and every seed measured (docs/experiments/2026-12-01-spectrum-fusion).

The threshold comes from the same reference faces, folds and mixtures as each expert alone: a reference face's
score is the sum of its out-of-fold scores under each expert (AnomalyModel.calibration_scores).

Saved in the artifact folder: the embedding expert as gmm.npz/gmm.json (as a one-mixture model is), every other
expert in a subfolder named by its block, and product.json (blocks, widths, settings) + product.npz (the summed
reference scores). `load_density` reads either kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .anomaly import AnomalyModel, GMMConfig, Reference
from .crop import CropConfig
from .spectrum import SPECTRAL


class ProductModel(Reference):
    """Experts by feature block, the width of each block's columns (in order), and the summed reference scores."""

    def __init__(self, experts: dict[str, AnomalyModel], widths: dict[str, int], reference_scores: np.ndarray,
                 far: float, config: GMMConfig) -> None:
        if list(experts) != list(widths):
            raise ValueError(f"experts {list(experts)} and widths {list(widths)} must name the same blocks in order")
        self.experts = experts
        self.widths = widths
        self.reference_scores = np.sort(np.asarray(reference_scores, dtype=np.float64))
        self.far = far
        self.config = config

    @classmethod
    def fit(cls, features: np.ndarray, cfg: GMMConfig, widths: dict[str, int], calibration: np.ndarray | None = None,
            calibration_folds: np.ndarray | None = None) -> ProductModel:
        """Fit each block's mixture (settings from `cfg.experts()`) exactly as AnomalyModel.fit would on that block
        alone (same arguments), then sum the blocks' reference scores face by face."""
        cfgs = cfg.experts()
        if list(cfgs) != list(widths):
            raise ValueError(f"settings for blocks {list(cfgs)} but features of blocks {list(widths)}")
        experts, refs = {}, []
        for name, cols in _columns(widths, np.shape(features)[1]).items():
            cal = None if calibration is None else np.asarray(calibration)[:, cols]
            experts[name] = AnomalyModel.fit(np.asarray(features)[:, cols], cfgs[name], cal, calibration_folds)
            refs.append(experts[name].calibration_scores)
        return cls(experts, dict(widths), np.sum(refs, axis=0), cfg.far, cfg)

    def score(self, features: np.ndarray) -> np.ndarray:
        """Sum of the experts' log-likelihoods of each row ([embedding, spectrum] columns)."""
        cols = _columns(self.widths, np.shape(features)[1])
        return np.sum([m.score(np.asarray(features)[:, cols[k]]) for k, m in self.experts.items()], axis=0)

    def save(self, folder: str | Path, fp16: bool = False) -> None:
        folder = Path(folder)
        for name, m in self.experts.items():
            m.save(folder if name == "embedding" else folder / name, fp16=fp16)
        np.savez_compressed(folder / "product.npz", reference_scores=self.reference_scores)
        meta = {"blocks": self.widths, "far": self.far, "config": self.config.to_dict()}
        (folder / "product.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: str | Path) -> ProductModel:
        folder = Path(folder)
        meta = json.loads((folder / "product.json").read_text())
        experts = {k: AnomalyModel.load(folder if k == "embedding" else folder / k) for k in meta["blocks"]}
        with np.load(folder / "product.npz", allow_pickle=False) as z:
            ref = z["reference_scores"]
        return cls(experts, meta["blocks"], ref, meta["far"], GMMConfig(**meta["config"]))


Density = AnomalyModel | ProductModel


def fit_density(features: np.ndarray, cfg: GMMConfig, widths: dict[str, int] | None = None,
                calibration: np.ndarray | None = None, calibration_folds: np.ndarray | None = None) -> Density:
    """A one-mixture model, or a product of experts when `cfg` names spectral experts (spectrum_dim, axis_dim;
    `widths` then names the blocks' columns)."""
    if len(cfg.experts()) == 1:
        return AnomalyModel.fit(features, cfg, calibration, calibration_folds)
    if widths is None:
        raise ValueError("spectral experts (spectrum_dim, axis_dim) need the feature blocks' widths")
    return ProductModel.fit(features, cfg, widths, calibration, calibration_folds)


def block_widths(embed_dim: int, crop: CropConfig, spectral: Iterable[str] = ()) -> dict[str, int]:
    """The feature blocks (and their widths) a density scores: the embedding, then the named spectral blocks
    (detector.spectrum.SPECTRAL) in order."""
    return {"embedding": embed_dim, **{k: SPECTRAL[k][1](crop) for k in spectral}}


def spectral_blocks(experts: Iterable[str]) -> tuple[str, ...]:
    """The spectral blocks among a density's (or a GMMConfig's) experts, in order: all but the embedding."""
    return tuple(k for k in experts if k != "embedding")


def load_density(folder: str | Path) -> Density:
    """The density saved in an artifact folder, whichever kind."""
    folder = Path(folder)
    return ProductModel.load(folder) if (folder / "product.json").is_file() else AnomalyModel.load(folder)


def _columns(widths: dict[str, int], n: int) -> dict[str, slice]:
    if sum(widths.values()) != n:
        raise ValueError(f"features have {n} columns; the blocks {widths} have {sum(widths.values())}")
    edges = np.cumsum([0, *widths.values()])
    return {k: slice(int(a), int(b)) for k, a, b in zip(widths, edges[:-1], edges[1:])}
