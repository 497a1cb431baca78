import numpy as np
import pytest
import torch
from skimage import data

from detector import AnomalyModel, GMMConfig
from detector.crop import network_input
from detector.explain import explanation_map, overlay, torch_log_likelihood, torch_score


@pytest.mark.parametrize("cov,pca", [("full", None), ("diag", None), ("tied", None), ("spherical", None),
                                     ("full", 3)])
def test_torch_log_likelihood_matches_sklearn(cov, pca):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (200, 6)), rng.normal(4, 0.5, (200, 6))])
    m = AnomalyModel.fit(x, GMMConfig(n_components=2, covariance_type=cov, dtype="float64", pca_dim=pca))  # exact
    got = torch_log_likelihood(torch.tensor(x[:20]), m).numpy()
    np.testing.assert_allclose(got, m.score(x[:20]), rtol=1e-8, atol=1e-8)


def test_explanation_map_on_a_face(detector):
    img = data.astronaut()
    crop = detector.crop(img, detector.find_faces(img))[0].image
    heat = explanation_map(detector, crop)
    assert heat.shape == crop.shape[:2] and heat.dtype == np.float32
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    assert overlay(crop, heat).shape == crop.shape


def test_torch_score_matches_the_detectors_score_of_every_expert(detector):
    """The map differentiates the score the detector reports: embedding, spectrum and axis experts summed."""
    a = detector.analyse(data.astronaut())
    assert list(detector.anomaly.experts) == ["embedding", "spectrum", "axis"]
    x = network_input([c.image for c in a.crops], detector.crop_cfg)
    with torch.no_grad():
        got = torch_score(detector, x).numpy()
    np.testing.assert_allclose(got, a.log_likelihoods, rtol=1e-5, atol=1e-3)


def test_a_ripple_expert_loads_scores_and_explains(tmp_path):
    """An artifact whose spectrum expert is the ripple (GMMConfig.ripple_dim) goes the whole way: saved, loaded, its
    features are the ripple's columns, and the map differentiates the score the detector reports."""
    from detector import Detector
    from detector.spectrum import spectral
    from tests.tiny_artifact import build_tiny_artifact

    det = Detector.load(build_tiny_artifact(tmp_path / "m", experts=("ripple", "axis")), device="cpu")
    assert list(det.anomaly.experts) == ["embedding", "ripple", "axis"]
    a = det.analyse(data.astronaut())
    crops = [c.image for c in a.crops]
    np.testing.assert_allclose(det.features(crops)[:, 768:879], spectral(crops, det.crop_cfg, "ripple"), rtol=1e-5,
                               atol=1e-5)
    with torch.no_grad():
        got = torch_score(det, network_input(crops, det.crop_cfg)).numpy()
    np.testing.assert_allclose(got, a.log_likelihoods, rtol=1e-5, atol=1e-3)
    heat = explanation_map(det, crops[0])
    assert heat.shape == crops[0].shape[:2] and np.isfinite(heat).all() and heat.max() == pytest.approx(1.0)
