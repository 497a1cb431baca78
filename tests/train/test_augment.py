"""Benign processing (train.augment) and the evaluation image prep (train.cache.ImagePrep)."""

import numpy as np
import pytest
from PIL import Image
from skimage import data

from detector.imageio import jpeg_roundtrip
from train.augment import OPS, AugmentConfig, apply_op, benign, content_rng
from train.cache import ImagePrep
from train.embed import degradation


@pytest.fixture(scope="module")
def face():
    return np.asarray(Image.fromarray(data.astronaut()).resize((224, 224)))


def _hf(rgb: np.ndarray) -> float:
    """Mean absolute difference between horizontal neighbours: high-frequency energy."""
    return float(np.abs(np.diff(rgb.astype(np.float32), axis=1)).mean())


@pytest.mark.parametrize("op", OPS)
def test_each_operation_changes_the_face_and_keeps_its_shape(face, op):
    out = apply_op(face, op, np.random.default_rng(0), AugmentConfig())
    assert out.shape == face.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - face).mean() > 0.3
    if op in ("rescale", "blur"):
        assert _hf(out) < _hf(face)  # both remove detail
    if op == "noise":
        assert _hf(out) > _hf(face)


def test_benign_is_off_by_default_and_a_pure_function_of_content(face):
    assert benign(face, np.random.default_rng(0), AugmentConfig()) is face
    cfg = AugmentConfig(prob=1.0)
    a = benign(face, content_rng(face, 3), cfg)
    b = benign(face.copy(), content_rng(face.copy(), 3), cfg)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, benign(face, content_rng(face, 4), cfg))
    np.testing.assert_array_equal(degradation("benign3", cfg)(face), a)
    with pytest.raises(ValueError, match="AugmentConfig"):
        degradation("benign0")


def test_image_prep_rescales_then_compresses(face):
    assert ImagePrep().is_identity and ImagePrep()(face) is face
    half = ImagePrep(scale=0.5, jpeg=90)(face)
    assert half.shape == (112, 112, 3)
    ref = np.asarray(Image.fromarray(face).resize((112, 112), Image.BICUBIC))
    np.testing.assert_array_equal(half, jpeg_roundtrip(ref, 90))  # resize first, then exactly one JPEG q90
