import numpy as np
import pytest
from skimage import data

from detector import MANIPULATIONS, ManipulationConfig, crop_face, get_face_finder, manipulate
from detector.manipulate import random_manipulation


@pytest.fixture(scope="module")
def face():
    img = data.astronaut()
    c = crop_face(img, get_face_finder("dlib")(img)[0].landmarks)
    return c.image, c.landmarks


@pytest.mark.parametrize("kind", ["eye_flip", "mouth_flip_h", "mouth_flip_v"])
def test_flips_change_pixels_only_inside_their_mask(face, kind):
    img, lm = face
    out, mask = manipulate(img, lm, kind)
    changed = np.any(out != img, axis=2)
    assert changed.sum() > 200  # it does something
    assert not (changed & (mask == 0)).any()  # and only inside the mask
    assert 0 < (mask > 0).mean() < 0.4 and mask.max() == pytest.approx(1.0)


def test_flip_regions_are_the_right_parts(face):
    img, lm = face
    _, eye = manipulate(img, lm, "eye_flip")
    _, mouth = manipulate(img, lm, "mouth_flip_h")
    ys_eye, ys_mouth = np.nonzero(eye)[0].mean(), np.nonzero(mouth)[0].mean()
    assert ys_eye < lm[30, 1] < ys_mouth  # eyes above the nose tip, mouth below


def test_strength_zero_is_identity(face):
    img, lm = face
    out, mask = manipulate(img, lm, "mouth_flip_v", cfg=ManipulationConfig(strength=0.0))
    assert (out == img).all() and mask.max() == 0


def test_warp_is_global_and_reproducible_by_seed(face):
    img, lm = face
    a, m = manipulate(img, lm, "piecewise_affine", seed=3)
    b, _ = manipulate(img, lm, "piecewise_affine", seed=3)
    c, _ = manipulate(img, lm, "piecewise_affine", seed=4)
    assert (a == b).all() and not (a == c).all()
    assert (m == 1).all() and np.any(a != img, axis=2).mean() > 0.5


def test_all_manipulations_reproducible_and_random_choice_uniform(face):
    img, lm = face
    for k in MANIPULATIONS:
        assert (manipulate(img, lm, k, seed=7)[0] == manipulate(img, lm, k, seed=7)[0]).all()
    rng = np.random.default_rng(0)
    kinds = [random_manipulation(img, lm, rng)[2] for _ in range(80)]
    assert set(kinds) == set(MANIPULATIONS)


def test_bad_arguments(face):
    img, lm = face
    with pytest.raises(ValueError):
        manipulate(img, lm, "nose_swap")
    with pytest.raises(ValueError):
        manipulate(img, lm[:5], "eye_flip")
