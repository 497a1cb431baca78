"""One-class model: a Gaussian mixture on photographic-face embeddings, and its threshold.

Score = log p(z) under the mixture. Threshold = the `far` quantile (default 5%) of the reference scores, i.e.
the scores of the photographic faces the threshold is set on: the GMM's own fit set (the paper), a disjoint
calibration set, or a cross-fitted one (each calibration face scored by a mixture fitted without it).
Optionally (`pca_dim`) the mixture lives in a whitened PCA subspace of the embedding: a 768-d full-covariance
mixture on a few thousand faces is rank-deficient (most covariance eigenvalues sit at reg_covar), so its
likelihood mostly measures distance from the fit faces' span. The projection is fitted with the mixture, on the
same faces, and is part of the saved model.
Saved as npz (arrays) + JSON (settings) and rebuilt into a scikit-learn GaussianMixture on load: no pickle.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

log = logging.getLogger(__name__)

# What scoring needs. covariances_ is not stored (it is the inverse of the precisions, rebuilt on load): with
# K=8 full 768x768 components each such array is 38 MB in float64.
_ARRAYS = ("weights_", "means_", "precisions_cholesky_")


@dataclass(frozen=True)
class GMMConfig:
    """GMM stage settings (paper: K=8, full covariance, EM, threshold at 5% false alarms)."""

    n_components: int = 8
    covariance_type: str = "full"
    reg_covar: float = 1e-6
    max_iter: int = 100
    tol: float = 1e-3
    init_params: str = "kmeans"
    far: float = 0.05
    seed: int = 0
    # float32 halves EM time (25k x 768, K=8: see benchmarks/gmm_fit.py); an ill-conditioned float32 fit is
    # redone in float64 automatically.
    dtype: str = "float32"
    # 0: calibration faces only set the threshold. k >= 2: they are cross-fitted in k folds (see AnomalyModel.fit),
    # so every face trains the mixture and every calibration score is still out-of-sample.
    calib_folds: int = 0
    # "file": the calibration faces are cross-fitted in `calib_folds` folds by file. "source": every fit and
    # calibration face is a reference, scored by a mixture fitted without its whole photo source (one fold per
    # source; train.protocol.DensityData), so the threshold is the 5% point of faces from a source the mixture has
    # not seen - what a user's photo is. Grouping needs the faces' sources, so it is done at training time.
    calib_by: str = "file"
    # None: the mixture on the raw embedding (the paper). d: on the first d whitened principal components.
    pca_dim: int | None = None
    # None: the embedding alone. d: a second expert on the crop's log power spectrum (detector.spectrum), a mixture
    # with these settings on its first d whitened principal components; a face's score is the sum of the two
    # log-likelihoods (detector.product).
    spectrum_dim: int | None = None
    # None: no such expert. d: an expert on the spectrum's ripple (detector.spectrum: the profile minus its smoothed
    # curve, so that a smooth gain such as sharpening cancels), on its first d whitened principal components.
    ripple_dim: int | None = None
    # None: no such expert. d: a further expert on the crop's axis profile (detector.spectrum: power on the frequency
    # axes over the ring's), on its first d whitened principal components; its log-likelihood is added too.
    axis_dim: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def experts(self) -> dict[str, GMMConfig]:
        """The settings of each expert's mixture, by feature block (the embedding first)."""
        one = replace(self, spectrum_dim=None, ripple_dim=None, axis_dim=None)
        dims = {"spectrum": self.spectrum_dim, "ripple": self.ripple_dim, "axis": self.axis_dim}
        return {"embedding": one, **{k: replace(one, pca_dim=d) for k, d in dims.items() if d}}


class Reference:
    """Threshold and percentiles from sorted reference scores (the scores of photographic faces the threshold is
    set on); shared by the one-mixture model and the product of experts."""

    reference_scores: np.ndarray
    far: float

    def threshold(self, far: float | None = None) -> float:
        """Score below which a face is flagged: the `far` quantile of the reference scores."""
        f = self.far if far is None else far
        if not 0.0 < f < 1.0:
            raise ValueError(f"false-alarm rate must be in (0, 1), got {f}")
        return float(np.quantile(self.reference_scores, f))

    def percentile(self, scores: np.ndarray) -> np.ndarray:
        """Percentage of reference photographic faces scoring at or below each score."""
        ranks = np.searchsorted(self.reference_scores, np.asarray(scores, dtype=np.float64), side="right")
        return 100.0 * ranks / len(self.reference_scores)


class AnomalyModel(Reference):
    """GaussianMixture + the reference log-likelihoods that define thresholds and percentiles."""

    def __init__(self, gmm: GaussianMixture, reference_scores: np.ndarray, far: float = 0.05,
                 config: GMMConfig | None = None, projection: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.gmm = gmm
        # (mean (D,), matrix (D, d)): z -> (z - mean) @ matrix before the mixture; None = identity
        self.projection = projection
        self.reference_scores = np.sort(np.asarray(reference_scores, dtype=np.float64))
        self.far = far
        self.config = config or GMMConfig(n_components=gmm.n_components, covariance_type=gmm.covariance_type)
        # the reference scores in the order of the rows they came from (set by `fit`; a product of experts sums them)
        self.calibration_scores: np.ndarray | None = None

    @property
    def experts(self) -> dict[str, AnomalyModel]:
        """The mixtures by feature block: this one, on the embedding."""
        return {"embedding": self}

    @classmethod
    def fit(cls, embeddings: np.ndarray, cfg: GMMConfig = GMMConfig(), calibration: np.ndarray | None = None,
            calibration_folds: np.ndarray | None = None) -> "AnomalyModel":
        """Fit on `embeddings`; reference scores come from `calibration` if given, else from the fit set.

        With `calibration_folds` (a fold id per calibration row) the calibration faces are cross-fitted: the mixture
        is fitted on embeddings + calibration, and the faces of each fold are scored by a mixture fitted on
        everything but that fold. A high-dimensional mixture scores its own fit set optimistically (with a few
        thousand 768-d faces, none of them falls below the 5% threshold of unseen ones); cross-fitting keeps the
        reference scores out-of-sample while every face still trains the mixture. `embeddings` may have no rows
        when every face is in a fold (calibration by source, train.protocol).
        """
        x = np.asarray(embeddings, dtype=cfg.dtype)
        if calibration is None or calibration_folds is None:
            m = cls._fitted(x, cfg)
            m.calibration_scores = m.score(x if calibration is None else calibration)
            m.reference_scores = np.sort(m.calibration_scores)
            return m
        cal = np.asarray(calibration, dtype=cfg.dtype)
        folds = np.asarray(calibration_folds)
        if folds.shape != (len(cal),) or len(np.unique(folds)) < 2:
            raise ValueError("calibration_folds needs one fold id per calibration row and at least two folds")
        ref = np.empty(len(cal))
        for f in np.unique(folds):
            out = folds == f
            ref[out] = cls._fitted(np.concatenate([x, cal[~out]]), cfg).score(cal[out])
        m = cls._fitted(np.concatenate([x, cal]), cfg)
        m.calibration_scores, m.reference_scores = ref, np.sort(ref)
        return m

    @classmethod
    def _fitted(cls, x: np.ndarray, cfg: GMMConfig) -> "AnomalyModel":
        """Projection (if any) and mixture fitted on x; reference scores not set yet."""
        projection = None
        if cfg.pca_dim:
            dim = min(cfg.pca_dim, x.shape[0] - 1, x.shape[1])
            if dim < cfg.pca_dim:  # a tiny fit set; the projection's shape records what was used
                log.warning("pca_dim %d reduced to %d: only %d faces x %d features", cfg.pca_dim, dim, *x.shape)
            pca = PCA(n_components=dim, whiten=True, random_state=cfg.seed).fit(x)
            matrix = pca.components_.T / np.sqrt(pca.explained_variance_)[None, :]
            projection = (pca.mean_.astype(x.dtype), matrix.astype(x.dtype))
            x = (x - projection[0]) @ projection[1]
        return cls(_fit_gmm(x, cfg), np.zeros(1), cfg.far, cfg, projection)

    def project(self, embeddings: np.ndarray) -> np.ndarray:
        """Embeddings -> the space the mixture lives in (the identity without PCA)."""
        z = np.asarray(embeddings, dtype=self.gmm.means_.dtype)
        if self.projection is None:
            return z
        mean, matrix = self.projection
        return (z - mean.astype(z.dtype)) @ matrix.astype(z.dtype)

    def score(self, embeddings: np.ndarray) -> np.ndarray:
        """log p(z) for each row (float64 out; computed in the dtype the mixture was fitted in)."""
        return _score(self.gmm, self.project(embeddings))

    def save(self, folder: str | Path, fp16: bool = False) -> None:
        """Write gmm.npz + gmm.json. fp16 stores the Cholesky factors in half precision (a quarter of the
        float64 file; on the shipped model scores move by a median 0.01 and no verdict changes), unless they would
        overflow it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {k: getattr(self.gmm, k) for k in _ARRAYS}
        pc = arrays["precisions_cholesky_"]
        if fp16 and np.abs(pc).max() < np.finfo(np.float16).max / 2:
            arrays["precisions_cholesky_"] = pc.astype(np.float16)
        # compressed: the upper triangles of the Cholesky factors are zeros (halves the file)
        if self.projection is not None:
            arrays["proj_mean"], arrays["proj_matrix"] = self.projection
        np.savez_compressed(folder / "gmm.npz", reference_scores=self.reference_scores, **arrays)
        meta = {"config": self.config.to_dict(), "far": self.far, "n_features": int(self.gmm.means_.shape[1]),
                "fit_dtype": str(self.gmm.means_.dtype),
                "converged": bool(self.gmm.converged_), "n_iter": int(self.gmm.n_iter_),
                "lower_bound": float(self.gmm.lower_bound_)}
        (folder / "gmm.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: str | Path) -> "AnomalyModel":
        folder = Path(folder)
        meta = json.loads((folder / "gmm.json").read_text())
        cfg = GMMConfig(**meta["config"])
        with np.load(folder / "gmm.npz", allow_pickle=False) as z:
            arrays = {k: z[k].astype(np.float64) if z[k].dtype == np.float16 else z[k] for k in _ARRAYS}
            ref = z["reference_scores"]
            projection = (z["proj_mean"], z["proj_matrix"]) if "proj_matrix" in z.files else None
        gmm = GaussianMixture(n_components=cfg.n_components, covariance_type=cfg.covariance_type,
                              reg_covar=cfg.reg_covar)
        for k, v in arrays.items():
            setattr(gmm, k, v)
        gmm.precisions_ = _precisions(arrays["precisions_cholesky_"], cfg.covariance_type)
        gmm.covariances_ = _covariances(gmm.precisions_, cfg.covariance_type)
        gmm.converged_, gmm.n_iter_, gmm.lower_bound_ = meta["converged"], meta["n_iter"], meta["lower_bound"]
        gmm.n_features_in_ = meta["n_features"]
        return cls(gmm, ref, meta["far"], cfg, projection)


def _fit_gmm(x: np.ndarray, cfg: GMMConfig) -> GaussianMixture:
    if len(x) < cfg.n_components:
        raise ValueError(f"need at least {cfg.n_components} embeddings to fit {cfg.n_components} components")
    gmm = GaussianMixture(
        n_components=cfg.n_components, covariance_type=cfg.covariance_type, reg_covar=cfg.reg_covar,
        max_iter=cfg.max_iter, tol=cfg.tol, init_params=cfg.init_params, random_state=cfg.seed,
    )
    try:
        gmm.fit(x)
    except ValueError:  # a covariance not positive definite in float32
        if x.dtype == np.float64:
            raise
        log.warning("GMM fit failed in %s (a covariance is not positive definite); refitting in float64", x.dtype)
        gmm.fit(x.astype(np.float64))
    return gmm


def _score(gmm: GaussianMixture, x: np.ndarray) -> np.ndarray:
    return gmm.score_samples(np.asarray(x, dtype=gmm.means_.dtype)).astype(np.float64)


def _precisions(prec_chol: np.ndarray, covariance_type: str) -> np.ndarray:
    if covariance_type == "full":
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)
    if covariance_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


def _covariances(precisions: np.ndarray, covariance_type: str) -> np.ndarray:
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(precisions)
    return 1.0 / precisions
