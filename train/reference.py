"""Reference rows of the validation protocol: what a learned detector has to beat, measured the same way.

- log-spectrum GMM: the radially averaged 2-D log power spectrum of each face crop (detector.spectrum: after the
  model's own preprocessing, greyscale), PCA-64 whitened, a 4-component full-covariance mixture, fitted and
  calibrated on the same real faces as the model, alone. A plain low-level statistic: a learned feature that loses
  to it has learned little about generation. (The shipped model scores this spectrum too, as a second expert.)
- untrained network: the model's own architecture and input, random init (seeded): what pretext training adds.
The supervised baseline (train.baseline) is the third reference; it has its own stage.
"""

from __future__ import annotations

from dataclasses import replace

from detector.anomaly import GMMConfig

from .embed import spectrum_features
from .protocol import density_data, evaluate

def spectrum_gmm(run) -> GMMConfig:
    """The reference's one mixture: the run's settings without its spectral experts (GMMConfig.experts' embedding
    entry), K=4 on 64 whitened components, full covariance."""
    return replace(run.gmm.experts()["embedding"], n_components=4, pca_dim=64, covariance_type="full")


def spectrum_row(run, sets) -> dict:
    """The protocol's numbers for the log-spectrum GMM (same fit, calibration and evaluation faces as the model)."""
    cfg = spectrum_gmm(run)
    feats = spectrum_features(run)
    data = density_data(run, sets, feats, cfg.calib_folds, run.augment.copies)
    return evaluate(run, sets, feats, data.fit_model(cfg), loso=(data, cfg), network_trained=False)["none"]


def untrained_row(run, sets) -> dict:
    """The protocol's numbers for the untrained network with the run's own GMM settings."""
    from .pretext import random_init_weights
    from .stages import evaluate_artifact, load_for_eval, stage_gmm

    base = run.run_dir / "reference" / "untrained"
    cfg = replace(run.pretext, epochs=0)  # recorded untrained: its protocol leaves out the EXIF sources too
    artifact = stage_gmm(run, sets, random_init_weights(cfg, base / "pretext"), base / "artifact", pretext_cfg=cfg)
    return evaluate_artifact(run, sets, *load_for_eval(artifact))["none"]


def reference_rows(run, sets) -> dict[str, dict]:
    g: GMMConfig = spectrum_gmm(run)
    rows = {f"log-spectrum GMM (PCA-{g.pca_dim}, K={g.n_components})": spectrum_row(run, sets)}
    if run.pretext.epochs:  # with epochs = 0 the model itself is the untrained network
        rows["untrained network (random init)"] = untrained_row(run, sets)
    return rows
