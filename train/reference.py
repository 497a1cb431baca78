"""Reference rows of the validation protocol: what a learned detector has to beat, measured the same way.

- log-spectrum GMM: the radially averaged 2-D log power spectrum of each face crop (after the model's own
  preprocessing, greyscale), PCA-64 whitened, a 4-component full-covariance mixture, fitted and calibrated on the
  same real faces as the model. A plain low-level statistic: a learned feature that loses to it has learned
  little about generation.
- untrained network: the model's own architecture and input, random init (seeded): what pretext training adds.
The supervised baseline (train.baseline) is the third reference; it has its own stage.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np

from detector.anomaly import GMMConfig
from detector.crop import CropConfig, finish

from .cache import FaceSet
from .embed import cached_features
from .protocol import Featurize, density_data, evaluate

SPECTRUM_GMM = dict(n_components=4, pca_dim=64, covariance_type="full")


def log_spectrum(crops: list[np.ndarray], crop: CropConfig) -> np.ndarray:
    """(N, size // 2) float32: log of the mean power in each integer-radius ring of the crop's 2-D spectrum."""
    x = np.stack([finish(np.asarray(c), crop) for c in crops]).astype(np.float32).mean(-1)
    x -= x.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fftshift(np.fft.fft2(x), axes=(1, 2))) ** 2
    n = x.shape[1]
    yy, xx = np.indices((n, n)) - n // 2
    ring = np.hypot(yy, xx).astype(int).ravel()
    keep = ring < n // 2
    counts = np.bincount(ring[keep], minlength=n // 2)
    flat = power.reshape(len(x), -1)[:, keep]
    rings = np.stack([np.bincount(ring[keep], weights=row, minlength=n // 2) for row in flat]) / counts
    return np.log(rings + 1e-6).astype(np.float32)


def spectrum_features(run) -> Featurize:
    tag = hashlib.sha1(json.dumps(run.crop.to_dict(), sort_keys=True).encode()).hexdigest()[:6]

    def feats(faces: dict[str, FaceSet], degrade: str) -> dict[str, np.ndarray]:
        return {k: cached_features(lambda c: log_spectrum(c, run.crop), fs.crops, run.run_dir / "embeddings",
                                   f"spectrum{tag}-{fs.id}", degrade, run.augment)
                for k, fs in faces.items()}

    return feats


def spectrum_row(run, sets) -> dict:
    """The protocol's numbers for the log-spectrum GMM (same fit, calibration and evaluation faces as the model)."""
    cfg = replace(run.gmm, **SPECTRUM_GMM)
    feats = spectrum_features(run)
    data = density_data(run, sets, feats, cfg.calib_folds, run.augment.copies)
    return evaluate(run, sets, feats, data.fit_model(cfg), loso=(data, cfg))["none"]


def untrained_row(run, sets) -> dict:
    """The protocol's numbers for the untrained network with the run's own GMM settings."""
    from .pretext import random_init_weights
    from .stages import evaluate_artifact, load_for_eval, stage_gmm

    base = run.run_dir / "reference" / "untrained"
    artifact = stage_gmm(run, sets, random_init_weights(run.pretext, base / "pretext"), base / "artifact")
    return evaluate_artifact(run, sets, *load_for_eval(artifact))["none"]


def reference_rows(run, sets) -> dict[str, dict]:
    g: GMMConfig = replace(run.gmm, **SPECTRUM_GMM)
    rows = {f"log-spectrum GMM (PCA-{g.pca_dim}, K={g.n_components})": spectrum_row(run, sets)}
    if run.pretext.epochs:  # with epochs = 0 the model itself is the untrained network
        rows["untrained network (random init)"] = untrained_row(run, sets)
    return rows
