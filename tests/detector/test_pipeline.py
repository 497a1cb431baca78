import re
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from detector import Detector, ImageReadError, ImageTooLargeError, ModelNotFoundError, NoFaceError


def test_scores_the_astronaut(detector, astronaut_png):
    faces = detector.score(astronaut_png)
    assert len(faces) == 1
    f = faces[0]
    assert f.index == 1 and f.landmarks.shape == (68, 2)
    assert np.isfinite(f.log_likelihood) and np.isfinite(f.threshold)
    assert f.is_fake == (f.log_likelihood < f.threshold)
    assert f.threshold == detector.anomaly.threshold(0.05)
    ref = detector.anomaly.reference_scores  # the share of reference faces at or below this face, in percent
    assert f.percentile == pytest.approx(100 * np.mean(ref <= f.log_likelihood))
    d = f.to_dict()
    assert d["landmarks"] == 68 and d["verdict"] in ("consistent with a camera photo", "flagged as AI-generated")


def test_features_are_the_embedding_then_each_spectral_block(detector):
    crop = detector.crop(data.astronaut(), detector.find_faces(data.astronaut()))[0].image
    f = detector.features([crop])
    assert f.shape == (1, sum(detector.anomaly.widths.values())) == (1, 768 + 111 + 110)
    np.testing.assert_allclose(f[:, :768], detector.embed([crop]), rtol=1e-5, atol=1e-6)
    from detector.spectrum import spectral

    np.testing.assert_allclose(f[:, 768:879], spectral([crop], detector.crop_cfg, "spectrum"), rtol=1e-5)
    np.testing.assert_allclose(f[:, 879:], spectral([crop], detector.crop_cfg, "axis"), rtol=1e-5, atol=1e-6)
    assert detector.features([]).shape == (0, 768 + 111 + 110)


def test_far_moves_the_threshold(detector, astronaut_png):
    lo = detector.score(astronaut_png, far=0.01)[0].threshold
    hi = detector.score(astronaut_png, far=0.5)[0].threshold
    assert lo < hi


def test_accepts_arrays_bytes_and_reports_no_face(detector, astronaut_png, no_face_png):
    a = detector.score(data.astronaut())[0].log_likelihood
    b = detector.score(astronaut_png.read_bytes())[0].log_likelihood
    assert a == pytest.approx(b, rel=1e-5)
    assert detector.score(no_face_png) == []
    with pytest.raises(NoFaceError, match="no face"):
        detector.score(no_face_png, require_face=True)


def test_batched_faces_match_single_face_scores(detector):
    img = data.astronaut()
    two = np.concatenate([img, img[:, ::-1]], axis=1)  # two faces side by side
    faces = detector.score(two)
    assert len(faces) == 2 and faces[0].box[0] < faces[1].box[0]
    single = detector.score(img)[0].log_likelihood
    assert min(abs(f.log_likelihood - single) for f in faces) < 1e-3 * abs(single) + 1e-3


def test_bad_inputs_raise_typed_errors(detector, bad_files):
    with pytest.raises(ImageReadError):
        detector.score(bad_files["text"])
    with pytest.raises(ImageReadError):
        detector.score(bad_files["truncated"])
    with pytest.raises(ImageTooLargeError):
        detector.score(bad_files["bomb"])


def test_missing_model_says_how_to_get_one(tmp_path):
    with pytest.raises(ModelNotFoundError, match="python -m train"):
        Detector.load(tmp_path)


def test_no_unsafe_deserialisation_in_library():
    root = Path(__file__).resolve().parents[2]
    for folder in ("detector", "train"):
        for p in (root / folder).rglob("*.py"):
            src = p.read_text()
            assert not re.search(r"^\s*(import|from)\s+pickle", src, re.M), p
            assert "allow_pickle=True" not in src, p
            for call in re.findall(r"torch\.load\([^)]*\)", src):
                assert "weights_only=True" in call, (p, call)


def test_certainty_bands_follow_the_reference_distribution():
    from detector.pipeline import CERTAINTY, certainty

    # at a 5% false-alarm rate the edges are the 1st and 15th percentile of the reference faces
    assert [certainty(p, 0.05) for p in (0.0, 0.99, 1.0, 4.9, 5.0, 14.9, 15.0, 80.0)] == \
        [CERTAINTY[0]] * 2 + [CERTAINTY[1]] * 4 + [CERTAINTY[2]] * 2
    assert certainty(3.0, 0.2) == CERTAINTY[0]  # a looser threshold widens "likely AI-generated"


def test_verdicts_carry_certainty_and_a_caution_for_faces_outside_the_calibrated_sizes(detector):
    from skimage import data

    from detector.pipeline import certainty

    a = detector.analyse(data.astronaut())
    (face,) = detector.verdicts(a, 0.05)
    assert face.certainty == certainty(face.percentile, 0.05) and face.to_dict()["certainty"] == face.certainty
    width = face.box[2] - face.box[0]
    old = detector.config.get("reference_ranges")
    try:
        detector.config["reference_ranges"] = {"face_width_px": [width / 10, width / 4]}
        assert "largest" in detector.verdicts(a, 0.05)[0].caution
        detector.config["reference_ranges"] = {"face_width_px": [width * 3, width * 5]}
        assert "smallest" in detector.verdicts(a, 0.05)[0].caution
        detector.config["reference_ranges"] = {"face_width_px": [width / 2, width * 2]}
        assert detector.verdicts(a, 0.05)[0].caution is None
    finally:
        detector.config["reference_ranges"] = old


def test_faces_narrower_than_small_face_px_get_a_caution_whatever_the_calibrated_range(detector):
    """A group-photo-sized face (under SMALL_FACE_PX) is cautioned even inside the calibrated range, or when the
    artifact records no range; the same face at its full size is not."""
    from PIL import Image

    from detector.pipeline import SMALL_FACE_PX

    rgb = data.astronaut()
    (face,) = detector.analyse(rgb).faces
    width = face.box[2] - face.box[0]
    assert width >= SMALL_FACE_PX
    side = round(rgb.shape[1] * (SMALL_FACE_PX - 8) / width)  # the photo shrunk until the face is ~40 px wide
    small = np.asarray(Image.fromarray(rgb).resize((side, side), Image.BICUBIC))
    old = detector.config.get("reference_ranges")
    try:
        for ranges in ({"face_width_px": [1.0, 2 * width]}, None):
            detector.config["reference_ranges"] = ranges
            assert detector.score(rgb)[0].caution is None
            (r,) = detector.score(small)
            assert r.box[2] - r.box[0] < SMALL_FACE_PX and "look photographic" in r.caution
    finally:
        detector.config["reference_ranges"] = old


def test_is_greyscale_tells_black_and_white_crops_from_colour_ones_after_the_jpeg_finish():
    from detector.pipeline import GREY_TOL, is_greyscale

    rgb = data.astronaut()[100:324, 100:324]
    grey = np.repeat(rgb.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    assert is_greyscale(grey) and not is_greyscale(rgb)
    tinted = np.clip(grey.astype(np.int16) + np.array([3 * GREY_TOL, 0, -3 * GREY_TOL]), 0, 255).astype(np.uint8)
    assert not is_greyscale(tinted)  # a sepia-like tint is colour


def test_a_black_and_white_face_gets_a_caution_and_the_same_face_in_colour_does_not(detector):
    rgb = data.astronaut()
    grey = np.repeat(rgb.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    old = detector.config.get("reference_ranges")
    try:
        detector.config["reference_ranges"] = None  # no size caution, so only colour decides
        assert detector.score(rgb)[0].caution is None
        (r,) = detector.score(grey)
        assert "black-and-white" in r.caution
        assert r.to_dict()["caution"] == r.caution
    finally:
        detector.config["reference_ranges"] = old


def test_a_face_cut_tightly_by_the_frame_gets_a_caution_and_the_same_face_with_room_does_not(detector):
    """The astronaut's photo cut along her landmarks' box: the 1.3x square then leaves the photo on every side and
    more than PADDED_SHARE of it is filled in by repeating the edge; the photo as it is has room around the face."""
    from detector.pipeline import PADDED_SHARE

    rgb = data.astronaut()
    a = detector.analyse(rgb)
    assert a.padded == [0.0]
    (x0, y0), (x1, y1) = a.faces[0].landmarks.min(0).astype(int), a.faces[0].landmarks.max(0).astype(int)
    tight = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    old = detector.config.get("reference_ranges")
    try:
        detector.config["reference_ranges"] = None  # no size caution, so only the framing decides
        assert detector.verdicts(a)[0].caution is None
        t = detector.analyse(tight)
        assert len(t.faces) == 1 and t.padded[0] >= PADDED_SHARE
        (r,) = detector.verdicts(t)
        assert "cut tightly" in r.caution and f"{100 * t.padded[0]:.0f}%" in r.caution
    finally:
        detector.config["reference_ranges"] = old
