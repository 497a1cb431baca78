import numpy as np
import pytest

from detector import AnomalyModel, GMMConfig


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 5, size=(3, 16))
    return np.concatenate([c + rng.normal(0, 1, size=(400, 16)) for c in centres])


def test_save_load_gives_equal_scores(tmp_path, blobs):
    m = AnomalyModel.fit(blobs, GMMConfig(n_components=3, seed=1))
    m.save(tmp_path)
    loaded = AnomalyModel.load(tmp_path)
    rng = np.random.default_rng(1)
    x = np.concatenate([blobs[:50], rng.normal(0, 8, size=(50, 16))])
    a, b = m.score(x), loaded.score(x)
    np.testing.assert_allclose(b, a, rtol=1e-6)
    assert loaded.threshold() == m.threshold()
    np.testing.assert_array_equal(loaded.percentile(a), m.percentile(a))
    np.testing.assert_allclose(loaded.gmm.predict_proba(x), m.gmm.predict_proba(x), rtol=1e-6, atol=1e-12)
    raw = np.load(tmp_path / "gmm.npz", allow_pickle=False)  # loads with pickle disabled
    assert raw["means_"].shape == (3, 16) and "covariances_" not in raw.files  # rebuilt, not stored
    np.testing.assert_allclose(loaded.gmm.covariances_, m.gmm.covariances_, rtol=1e-4, atol=1e-6)  # float32 fit


def test_threshold_is_the_far_quantile_of_fit_scores(blobs):
    m = AnomalyModel.fit(blobs, GMMConfig(n_components=3))
    s = m.score(blobs)
    assert np.mean(s < m.threshold()) == pytest.approx(0.05, abs=0.002)
    assert np.mean(s < m.threshold(0.2)) == pytest.approx(0.2, abs=0.002)
    with pytest.raises(ValueError):
        m.threshold(0.0)


def test_percentile_and_outliers(blobs):
    m = AnomalyModel.fit(blobs, GMMConfig(n_components=3))
    far_away = np.full((1, 16), 50.0)
    assert m.score(far_away)[0] < m.threshold()
    assert m.percentile(m.score(far_away))[0] == 0.0
    assert m.percentile([np.inf])[0] == 100.0


def test_calibration_set_sets_the_reference(blobs):
    m = AnomalyModel.fit(blobs[::2], GMMConfig(n_components=3), calibration=blobs[1::2])
    np.testing.assert_allclose(np.sort(m.score(blobs[1::2])), m.reference_scores)


def test_too_few_points():
    with pytest.raises(ValueError, match="at least"):
        AnomalyModel.fit(np.zeros((3, 4)), GMMConfig(n_components=8))


def test_cross_fitted_calibration_scores_each_fold_out_of_sample(blobs):
    x, cal = blobs[::2], blobs[1::2]
    folds = np.arange(len(cal)) % 3
    cfg = GMMConfig(n_components=3, seed=2)
    m = AnomalyModel.fit(x, cfg, calibration=cal, calibration_folds=folds)
    final = AnomalyModel.fit(np.concatenate([x, cal]), cfg)  # the shipped mixture sees every face
    np.testing.assert_allclose(m.score(blobs), final.score(blobs))
    expected = [AnomalyModel.fit(np.concatenate([x, cal[folds != f]]), cfg).score(cal[folds == f]) for f in range(3)]
    np.testing.assert_allclose(m.reference_scores, np.sort(np.concatenate(expected)))
    with pytest.raises(ValueError, match="fold"):
        AnomalyModel.fit(x, cfg, calibration=cal, calibration_folds=np.zeros(len(cal)))


def test_cross_fitted_threshold_holds_on_unseen_faces_where_the_fit_set_threshold_does_not():
    """Few points in many dimensions: a mixture's own fit scores are optimistic (the paper's recipe flags far more
    than 5% of unseen faces); out-of-fold calibration scores give a threshold that transfers."""
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(40, 40)) / np.sqrt(40)

    def draw(n: int) -> np.ndarray:
        return rng.normal(size=(n, 40)) @ mix + np.where(rng.random((n, 1)) < 0.5, 2.0, -2.0)

    x, cal, unseen = draw(200), draw(200), draw(4000)
    cfg = GMMConfig(n_components=2, dtype="float64")
    own = AnomalyModel.fit(np.concatenate([x, cal]), cfg)
    crossfit = AnomalyModel.fit(x, cfg, calibration=cal, calibration_folds=np.arange(len(cal)) % 5)
    assert np.mean(own.score(unseen) < own.threshold()) > 0.2
    assert 0.02 < np.mean(crossfit.score(unseen) < crossfit.threshold()) < 0.08


def test_fp16_storage_keeps_scores_and_verdicts(tmp_path, blobs):
    m = AnomalyModel.fit(blobs, GMMConfig(n_components=3, seed=1))
    m.save(tmp_path, fp16=True)
    with np.load(tmp_path / "gmm.npz", allow_pickle=False) as z:
        assert z["precisions_cholesky_"].dtype == np.float16
    loaded = AnomalyModel.load(tmp_path)
    rng = np.random.default_rng(3)
    x = np.concatenate([blobs, rng.normal(0, 8, size=(200, 16))])
    a, b = m.score(x), loaded.score(x)
    np.testing.assert_allclose(b, a, rtol=1e-2, atol=0.05)
    assert np.mean((a < m.threshold()) != (b < loaded.threshold())) < 0.005


def test_pca_projection_is_fitted_saved_and_used(tmp_path, blobs):
    m = AnomalyModel.fit(blobs, GMMConfig(n_components=3, pca_dim=4, seed=1))
    mean, matrix = m.projection
    assert mean.shape == (16,) and matrix.shape == (16, 4) and m.gmm.means_.shape == (3, 4)
    # whitened: the projected fit set has identity covariance
    np.testing.assert_allclose(np.cov(m.project(blobs).T), np.eye(4), atol=1e-3)
    m.save(tmp_path)
    loaded = AnomalyModel.load(tmp_path)
    np.testing.assert_allclose(loaded.score(blobs[:40]), m.score(blobs[:40]), rtol=1e-6)
    # a point off the fit faces' span scores below the threshold
    assert m.score(np.full((1, 16), 30.0))[0] < m.threshold()
    small = AnomalyModel.fit(blobs[:6], GMMConfig(n_components=1, pca_dim=8))  # too few faces for 8 components
    assert small.projection[1].shape == (16, 5)


def test_float64_fallback_is_recorded(tmp_path, caplog):
    import json

    a = np.random.default_rng(0).normal(size=(300, 3)) * 100
    x = np.c_[a, a @ [1.0, 2.0, 3.0]]  # a collinear column: singular in float32 rounding, fine in float64 + reg
    m = AnomalyModel.fit(x, GMMConfig(n_components=2, reg_covar=1e-8))
    m.save(tmp_path)
    assert json.loads((tmp_path / "gmm.json").read_text())["fit_dtype"] == "float64"
    assert any("refitting in float64" in r.message for r in caplog.records)
    ok = AnomalyModel.fit(a, GMMConfig(n_components=2))
    ok.save(tmp_path)
    assert json.loads((tmp_path / "gmm.json").read_text())["fit_dtype"] == "float32"
