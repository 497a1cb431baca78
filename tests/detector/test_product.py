import numpy as np
import pytest

from detector import AnomalyModel, GMMConfig, ProductModel, fit_density, load_density

WIDTHS = {"embedding": 6, "spectrum": 4}


@pytest.fixture(scope="module")
def features():
    """Two independent blocks: 3 clusters in the first 6 columns, 2 in the last 4."""
    rng = np.random.default_rng(0)
    a = np.concatenate([c + rng.normal(0, 1, (300, 6)) for c in rng.normal(0, 5, (3, 6))])
    b = np.concatenate([c + rng.normal(0, 1, (450, 4)) for c in rng.normal(0, 5, (2, 4))])
    return np.concatenate([a, b[rng.permutation(900)]], axis=1)


CFG = GMMConfig(n_components=2, spectrum_dim=3, seed=1)


def test_score_is_the_sum_of_the_experts_and_save_load_keeps_it(tmp_path, features):
    m = fit_density(features, CFG, WIDTHS)
    assert isinstance(m, ProductModel) and list(m.experts) == ["embedding", "spectrum"]
    emb, spec = m.experts.values()
    assert emb.projection is None and spec.projection[1].shape == (4, 3)  # the spectrum expert's own PCA
    np.testing.assert_allclose(m.score(features), emb.score(features[:, :6]) + spec.score(features[:, 6:]))
    # reference: the sum of each face's scores (here the fit set's own), so 5% of fit faces fall below the threshold
    assert np.mean(m.score(features) < m.threshold()) == pytest.approx(0.05, abs=0.002)
    m.save(tmp_path)
    loaded = load_density(tmp_path)
    assert isinstance(loaded, ProductModel) and loaded.widths == WIDTHS and loaded.config == CFG
    np.testing.assert_allclose(loaded.score(features[:50]), m.score(features[:50]), rtol=1e-6)
    assert loaded.threshold(0.1) == m.threshold(0.1)
    np.testing.assert_array_equal(loaded.percentile(m.score(features[:5])), m.percentile(m.score(features[:5])))


def test_cross_fitted_reference_sums_each_experts_out_of_fold_scores(features):
    folds = np.arange(len(features)) % 3
    m = ProductModel.fit(features[:0], CFG, WIDTHS, calibration=features, calibration_folds=folds)
    cfgs = CFG.experts()
    alone = [AnomalyModel.fit(features[:0, c], cfgs[k], calibration=features[:, c], calibration_folds=folds)
             for k, c in (("embedding", slice(0, 6)), ("spectrum", slice(6, 10)))]
    np.testing.assert_allclose(m.reference_scores, np.sort(alone[0].calibration_scores + alone[1].calibration_scores))
    # calibration_scores are per face, in the calibration rows' order
    np.testing.assert_allclose(np.sort(alone[1].calibration_scores), alone[1].reference_scores)


def test_without_spectrum_dim_it_is_one_mixture_and_widths_must_fit(features):
    one = fit_density(features[:, :6], GMMConfig(n_components=2))
    assert isinstance(one, AnomalyModel) and list(one.experts) == ["embedding"]
    with pytest.raises(ValueError, match="widths"):
        fit_density(features, CFG)
    with pytest.raises(ValueError, match="columns"):
        fit_density(features[:, :9], CFG, WIDTHS)
    with pytest.raises(ValueError, match="blocks"):
        ProductModel.fit(features, CFG, {"spectrum": 4, "embedding": 6})


def test_an_axis_expert_is_a_third_block_in_config_order(features):
    """GMMConfig.axis_dim adds a third expert after the spectrum's; its block widths come from block_widths."""
    from detector.crop import CropConfig
    from detector.product import block_widths

    cfg = GMMConfig(n_components=2, spectrum_dim=2, axis_dim=2, seed=1)
    assert list(cfg.experts()) == ["embedding", "spectrum", "axis"]
    assert [c.pca_dim for c in cfg.experts().values()] == [None, 2, 2]
    assert block_widths(768, CropConfig(), ("spectrum", "axis")) == {"embedding": 768, "spectrum": 111, "axis": 110}
    widths = {"embedding": 4, "spectrum": 3, "axis": 3}
    m = fit_density(features, cfg, widths)
    assert list(m.experts) == ["embedding", "spectrum", "axis"]
    parts = [m.experts[k].score(features[:, c]) for k, c in
             (("embedding", slice(0, 4)), ("spectrum", slice(4, 7)), ("axis", slice(7, 10)))]
    np.testing.assert_allclose(m.score(features), np.sum(parts, axis=0))
    only_axis = GMMConfig(n_components=2, axis_dim=2)
    assert list(only_axis.experts()) == ["embedding", "axis"]


def test_a_ripple_expert_sits_between_spectrum_and_axis():
    """GMMConfig.ripple_dim: the detrended spectrum's expert, after the spectrum's and before the axis profile's (the
    features' column order); without spectrum_dim it replaces the raw spectrum's expert."""
    from detector.crop import CropConfig
    from detector.product import block_widths

    full = GMMConfig(n_components=2, spectrum_dim=2, ripple_dim=3, axis_dim=2)
    assert list(full.experts()) == ["embedding", "spectrum", "ripple", "axis"]
    assert [c.pca_dim for c in full.experts().values()] == [None, 2, 3, 2]
    assert all(c.ripple_dim is None for c in full.experts().values())
    cfg = GMMConfig(n_components=2, ripple_dim=2, axis_dim=2, seed=1)
    assert list(cfg.experts()) == ["embedding", "ripple", "axis"]
    assert block_widths(768, CropConfig(), ("ripple", "axis")) == {"embedding": 768, "ripple": 111, "axis": 110}
