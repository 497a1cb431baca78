"""The validation protocol on synthetic features: leave-one-source-out false alarms, the worst generator, processed
copies in the density's data, and a product of experts fitted by source."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from detector.anomaly import AnomalyModel, GMMConfig
from detector.crop import CropConfig
from train import metrics, protocol
from train.cache import FaceSet

SPLITS = {"pretext": 0.4, "calib": 0.3, "heldout": 0.3}


def _faces(name: str, n: int) -> FaceSet:
    idx = np.arange(n)
    grey = np.random.default_rng(n).integers(0, 256, (n, 8, 8, 1), dtype=np.uint8)  # tone unrelated to the features
    return FaceSet(name, f"{name}-key", np.repeat(grey, 3, axis=3), np.zeros((n, 68, 2), np.float32), idx,
                   np.full((n, 4), np.nan), [f"{name}_{i:04d}.jpg" for i in range(n)], {})


class _Sets:
    """The two methods of train.stages.Sets the protocol uses, over synthetic sources."""

    def __init__(self, n: dict[str, int], exif: dict[str, int] | None = None) -> None:
        from train.cache import split_mask

        self.real_eval = {k: _faces(k, v) for k, v in n.items()}
        self.exif_eval = {k: _faces(k, v) for k, v in (exif or {}).items()}  # EXIF sources: all in the pretext split
        self.fake = {"gen": _faces("gen", 200)}
        self._split = {k: split_mask(fs, SPLITS) for k, fs in self.real_eval.items()}

    def split(self, name: str, evaluation: bool = False) -> dict[str, FaceSet]:
        out = {k: fs.subset(np.nonzero(self._split[k][name])[0]) for k, fs in self.real_eval.items()}
        return {**out, **self.exif_eval} if name == "pretext" and not evaluation else out


@pytest.fixture(scope="module")
def setting():
    """Sources a, b, c drawn from one distribution; source "odd" from a shifted one; fakes from a third."""
    return _setting({"a": 900, "b": 900, "c": 900, "odd": 600})


def _setting(n: dict[str, int], exif: dict[str, int] | None = None):
    rng = np.random.default_rng(0)
    centre = {"a": 0.0, "b": 0.0, "c": 0.0, "odd": 6.0, "gen": 3.0, "cam": -6.0}
    sets = _Sets(n, exif)
    feats_of = {k: rng.normal(centre[k], 1.0, size=(len(fs.files), 4))
                for k, fs in {**sets.real_eval, **sets.exif_eval, **sets.fake}.items()}

    def feats(faces: dict[str, FaceSet], degrade: str) -> dict[str, np.ndarray]:
        shift = 0.0 if degrade == "none" else 0.5  # a "processed copy" moves the features a little
        return {k: feats_of[fs.name][fs.file_idx] + shift for k, fs in faces.items()}

    run = SimpleNamespace(data=SimpleNamespace(split=SPLITS, gmm_from=("pretext",), calibrate_on=("calib",),
                                               split_seed=0), crop=CropConfig(jpeg_quality=None))
    return run, sets, feats


def test_leave_one_source_out_flags_a_source_unlike_the_others(setting):
    run, sets, feats = setting
    cfg = GMMConfig(n_components=1, covariance_type="full", calib_folds=3)
    data = protocol.density_data(run, sets, feats, cfg.calib_folds)
    per = protocol.leave_one_source_out(run, sets, feats, data, cfg)
    assert set(per) == {"a", "b", "c", "odd"}  # not the EXIF source: a trained network has seen all of it
    assert per["odd"]["far"] > 95  # nothing like it was fitted: nearly all of it flagged
    for k in "abc":  # like the rest: about the 5% target
        assert 1 < per[k]["far"] < 11, (k, per[k])
    # the test faces are the unseen splits (calib + heldout), from the evaluation faces
    assert per["a"]["n"] == sum(len(sets.split(s)["a"]) for s in ("calib", "heldout"))
    # while the pooled model, which saw "odd", flags few of its held-out faces
    res = protocol.evaluate(run, sets, feats, data.fit_model(cfg), loso=(data, cfg))["none"]
    assert res["heldout_far"]["odd"] < 20
    assert res["loso_far_worst"]["source"] == "odd"
    # the crops' tone is unrelated to the features here: matching real faces on it leaves the AUC about as it was
    tm = res["tone_matched"]
    assert abs(tm["per_generator"]["gen"] - res["per_generator"]["gen"]["auc"]) < 5
    assert tm["mean"] == tm["per_generator"]["gen"]
    assert 0 <= tm["far_low_contrast"] <= 100 and 0 <= tm["far_high_contrast"] <= 100


def test_exif_sources_count_as_left_out_sources_only_when_the_network_never_trained_on_them():
    """An EXIF-like source "cam" (shifted the other way), all of it in the pretext split, fitted on whole."""
    run, sets, feats = _setting({"a": 900, "b": 900, "c": 900, "odd": 600}, exif={"cam": 300})
    cfg = GMMConfig(n_components=1, covariance_type="full", calib_folds=3)
    data = protocol.density_data(run, sets, feats, cfg.calib_folds)
    assert "cam" in data.fit  # fitted on whole, like the EXIF photos
    assert "cam" not in protocol.loso_test_faces(run, sets, data, network_trained=True)
    per = protocol.leave_one_source_out(run, sets, feats, data, cfg, network_trained=False)
    assert per["cam"]["n"] == 300  # every face of it, after the evaluation prep
    seen = data.fit_model(cfg)  # the mixture that has "cam" in its fit flags far fewer of its faces than one without
    z = feats(sets.exif_eval, "none")["cam"]
    assert per["cam"]["far"] > 50 > 100 * np.mean(seen.score(z) < seen.threshold()), per["cam"]
    assert per["a"] == protocol.leave_one_source_out(run, sets, feats, data, cfg)["a"]  # face sets as before
    res = protocol.evaluate(run, sets, feats, data.fit_model(cfg), loso=(data, cfg), network_trained=False)["none"]
    assert res["loso_far_worst"]["source"] in ("cam", "odd") and "cam" in res["loso_far"]


def test_calibration_by_source_scores_each_source_by_a_mixture_fitted_without_it(setting):
    run, sets, feats = setting
    cfg = GMMConfig(n_components=1, covariance_type="full", calib_folds=3, calib_by="source")
    data = protocol.density_data(run, sets, feats, cfg.calib_folds)
    two = protocol.DensityData({k: data.fit[k] for k in "ab"}, {k: data.calib[k] for k in "ab"}, None)
    whole = {k: np.concatenate([two.fit[k], two.calib[k]]) for k in "ab"}
    expect = np.concatenate([AnomalyModel.fit(whole["b"], cfg).score(whole["a"]),
                             AnomalyModel.fit(whole["a"], cfg).score(whole["b"])])
    m = two.fit_model(cfg)
    np.testing.assert_allclose(m.reference_scores, np.sort(expect), rtol=1e-6)
    # the final mixture is fitted on every face of both sources
    np.testing.assert_allclose(m.gmm.means_[0], m.project(np.concatenate(list(whole.values()))).mean(0), atol=1e-4)
    # a source unlike the others has low out-of-source scores: the threshold for a new source is set lower than
    # the one cross-fitting by file gives (which scores every face with its own source in the fit)
    assert data.fit_model(cfg).threshold() < data.fit_model(replace(cfg, calib_by="file")).threshold()
    # leaving a source out of the fit leaves it out of the calibration too
    assert len(data.fit_model(cfg, leave_out="odd").reference_scores) == sum(
        len(data.fit[k]) + len(data.calib[k]) for k in "abc")
    with pytest.raises(ValueError, match="calib_by"):
        data.fit_model(replace(cfg, calib_by="camera"))
    with pytest.raises(ValueError, match="two sources"):
        protocol.DensityData({"a": data.fit["a"]}, {"a": data.calib["a"]}, None).fit_model(cfg)


def test_a_product_of_experts_by_source_sums_each_blocks_out_of_source_scores(setting):
    """Features of two blocks (columns 0-1, 2-3): with spectrum_dim set, each block gets its own mixture calibrated
    by source exactly as alone, and a face's reference score is the sum of its blocks' out-of-source scores."""
    run, sets, feats = setting
    cfg = GMMConfig(n_components=1, covariance_type="full", calib_by="source", spectrum_dim=2)
    data = protocol.density_data(run, sets, feats, 0, widths={"embedding": 2, "spectrum": 2})
    m = data.fit_model(cfg, leave_out="odd")
    assert list(m.experts) == ["embedding", "spectrum"] and m.experts["spectrum"].config.pca_dim == 2
    z, folds = data.by_source(leave_out="odd")
    alone = [AnomalyModel.fit(z[:0, c], cfg.experts()[k], calibration=z[:, c], calibration_folds=folds)
             for k, c in (("embedding", slice(0, 2)), ("spectrum", slice(2, 4)))]
    np.testing.assert_allclose(m.reference_scores, np.sort(alone[0].calibration_scores + alone[1].calibration_scores),
                               rtol=1e-6)
    x = np.concatenate(list(feats(sets.split("heldout"), "none").values()))
    np.testing.assert_allclose(m.score(x), alone[0].score(x[:, :2]) + alone[1].score(x[:, 2:]), rtol=1e-6)
    per = protocol.leave_one_source_out(run, sets, feats, data, cfg)  # the product left out source by source
    assert per["odd"]["far"] > 95 and all(per[k]["far"] < 11 for k in "abc"), per


def test_processed_copies_join_fit_and_calibration_with_their_folds(setting):
    run, sets, feats = setting
    plain = protocol.density_data(run, sets, feats, 3)
    aug = protocol.density_data(run, sets, feats, 3, copies=2)
    for k in plain.fit:
        assert len(aug.fit[k]) == 3 * len(plain.fit[k]) and len(aug.calib[k]) == 3 * len(plain.calib[k])
        np.testing.assert_array_equal(aug.folds[k], np.tile(plain.folds[k], 3))
        np.testing.assert_allclose(aug.fit[k][len(plain.fit[k]):].mean(0) - plain.fit[k].mean(0), 0.5, atol=1e-9)


def test_worst_generator_ignores_sets_too_small_to_judge():
    per = {"big": {"auc": 70.0, "ap": 1, "acc": 1, "n_fake": 100}, "tiny": {"auc": 40.0, "ap": 1, "acc": 1, "n_fake": 9},
           "mid": {"auc": 60.0, "ap": 1, "acc": 1, "n_fake": protocol.MIN_FAKES_FOR_WORST}}
    assert protocol.worst_generator(per)["generator"] == "mid"
    assert protocol.worst_generator({"tiny": per["tiny"]})["generator"] == "tiny"


def test_summary_names_the_worst_generator_and_source_and_can_drop_half_size_rows():
    m = {"auc": 70.0, "ap": 1, "acc": 1, "n_fake": 50}
    res = {"per_generator": {"g": m, "g@0.5x": {**m, "auc": 40.0}}, "mean": {"auc": 55.0},
           "worst": {"generator": "g@0.5x", "auc": 40.0}, "heldout_far_all": 4.0,
           "loso_far": {"a": {"far": 2.0, "n": 10}, "b": {"far": 9.5, "n": 20}},
           "loso_far_worst": {"source": "b", "far": 9.5, "n": 20}}
    head, gens, loso = protocol.summary(res).splitlines()
    assert head == "mean AUC 55.0 worst 40.0 (g@0.5x) held-out FAR 4.0 LOSO worst 9.5 (b)"
    assert gens.split() == ["g=70.0", "g@0.5x=40.0"] and loso.split() == ["LOSO", "a=2.0", "b=9.5"]
    assert protocol.summary(res, native_only=True).splitlines()[1].split() == ["g=70.0"]
    no_loso = {k: v for k, v in res.items() if not k.startswith("loso")}
    assert "LOSO" not in protocol.summary(no_loso) and len(protocol.summary(no_loso).splitlines()) == 2
    by_source = {**res, "heldout_far": {"a": 1.0, "b": 12.0, "c": 0.0}}
    assert "held-out FAR 4.0 (worst b 12.0) LOSO" in protocol.summary(by_source).splitlines()[0]


def test_headline_table_reports_the_share_of_fakes_flagged_next_to_the_auc():
    real, fake = np.linspace(0, 1, 100), np.linspace(-0.5, 0.5, 40)  # scores: lower = less photographic
    per = {"g": metrics.detection_metrics(real, fake, threshold=0.05)}
    row = {"per_generator": per, "mean": metrics.mean_metrics(per), "worst": protocol.worst_generator(per),
           "heldout_far_all": 5.0}
    lines = protocol.headline_table({"model": row})
    (flagged,) = [line for line in lines if "generated faces flagged" in line]
    assert flagged.split("|")[2] == f" {100 * np.mean(fake < 0.05):.1f} "


def test_missed_generators_names_each_generator_below_chance_with_its_closest_source():
    from train.protocol import MIN_FAKES_FOR_WORST, missed_generators

    n = MIN_FAKES_FOR_WORST
    per = {"gan": {"auc": 56.0, "tpr": 1.3, "n_fake": n}, "gan@0.5x": {"auc": 47.1, "tpr": 2.0, "n_fake": n},
           "diff": {"auc": 85.0, "n_fake": n}, "tiny": {"auc": 20.0, "n_fake": n - 1}}  # too few faces to count
    by_source = {"gan": {"a": 71.0, "b": 37.0}, "gan@0.5x": {"a": 60.0, "b": 30.5}}
    assert missed_generators(per, by_source) == {
        "gan": "gan AUC 56.0, 1.3% flagged, 37.0 against b faces; gan@0.5x AUC 47.1, 2.0% flagged, 30.5 against b faces"}
    assert missed_generators({"diff": per["diff"]}) == {}


def test_generators_are_ranked_against_each_left_out_source_by_the_density_that_never_saw_it(setting):
    """"odd" (centre 6) is further from a, b, c (centre 0) than the fakes (centre 3): with "odd" left out the fakes
    look more photographic than its faces (AUC near 0); with "a" left out, a 2-component mixture of the rest (0 and 6)
    puts a's faces on a component and the fakes between the two (AUC near 100)."""
    run, sets, feats = setting
    cfg = GMMConfig(n_components=2, covariance_type="full", calib_folds=3)
    data = protocol.density_data(run, sets, feats, cfg.calib_folds)
    fakes = feats(sets.fake, "none")
    per = protocol.leave_one_source_out(run, sets, feats, data, cfg, fakes=fakes)
    assert per["odd"]["auc"]["gen"] < 10 and per["a"]["auc"]["gen"] > 90, per
    assert {k: {"far": v["far"], "n": v["n"]} for k, v in per.items()} == protocol.leave_one_source_out(
        run, sets, feats, data, cfg)  # the false alarms do not depend on the fakes
    res = protocol.evaluate(run, sets, feats, data.fit_model(cfg), loso=(data, cfg))["none"]
    assert res["loso_auc_by_source"] == {k: v["auc"] for k, v in per.items()}
    assert res["loso_auc"]["mean"] == pytest.approx(np.mean([v["auc"]["gen"] for v in per.values()]))
    assert res["loso_auc"]["worst_cell"] == {"generator": "gen", "source": "odd", "auc": per["odd"]["auc"]["gen"]}
    assert "AUC vs left-out sources: mean" in protocol.summary(res).splitlines()[-1]
    (row,) = [line for line in protocol.headline_table({"m": res}) if "against left-out sources" in line]
    assert f"**{res['loso_auc']['mean']:.1f}**" in row


def test_unseen_source_auc_skips_small_sources_and_small_generators_for_the_worst_case():
    n = protocol.MIN_FAKES_FOR_WORST
    per_gen = {"big": {"n_fake": n}, "tiny": {"n_fake": n - 1}}
    per_source = {"a": {"far": 1.0, "n": 100, "auc": {"big": 80.0, "tiny": 10.0}},
                  "b": {"far": 3.0, "n": 100, "auc": {"big": 60.0, "tiny": 30.0}},
                  "few": {"far": 0.0, "n": protocol.MIN_REALS_FOR_AUC - 1}}  # no AUC: too few faces
    u = protocol.unseen_source_auc(per_source, per_gen)
    assert u["per_generator"] == {"big": 70.0, "tiny": 20.0} and u["mean"] == 45.0
    assert u["worst"] == {"generator": "big", "auc": 70.0}
    assert u["worst_cell"] == {"generator": "big", "source": "b", "auc": 60.0} and u["sources"] == ["a", "b"]
    assert protocol.unseen_source_auc({"few": per_source["few"]}, per_gen) == {}
