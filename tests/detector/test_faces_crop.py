import numpy as np
import pytest
from PIL import Image
from skimage import data

from detector import BackendUnavailableError, CropConfig, crop_face, get_face_finder, load_image
from detector.crop import to_tensor


def test_astronaut_has_one_face_with_68_landmarks():
    faces = get_face_finder("dlib")(data.astronaut())
    assert len(faces) == 1
    f = faces[0]
    assert f.landmarks.shape == (68, 2)
    x0, y0, x1, y1 = f.box
    assert 150 < x0 < x1 < 300 and 50 < y0 < y1 < 220


def test_no_face_and_small_images():
    assert get_face_finder("dlib")(data.coffee()) == []
    small = np.asarray(Image.fromarray(data.astronaut()).resize((128, 128)))  # face ~25 px: needs upscaling
    assert len(get_face_finder("dlib")(small)) == 1


def test_rotated_photo_finds_face_after_exif_transpose(tmp_path):
    img = Image.fromarray(np.rot90(data.astronaut(), k=1).copy())  # stored rotated
    exif = img.getexif()
    exif[0x0112] = 6  # viewer rotates 90 CW -> upright
    p = tmp_path / "rot.jpg"
    img.save(p, exif=exif, quality=95)
    assert len(get_face_finder("dlib")(np.asarray(Image.open(p).convert("RGB")))) == 0  # raw pixels: sideways
    assert len(get_face_finder("dlib")(load_image(p))) == 1


def test_unknown_or_unavailable_backend():
    with pytest.raises(BackendUnavailableError):
        get_face_finder("nope")
    try:
        import face_alignment  # noqa: F401
    except ImportError:
        with pytest.raises(BackendUnavailableError, match="face-alignment"):
            get_face_finder("fan")
        return
    try:  # installed: either its weights are cached and it finds the astronaut, or it says why it cannot run
        finder = get_face_finder("fan")
    except BackendUnavailableError as e:
        assert "weights" in str(e)
    else:
        assert len(finder(data.astronaut())) == 1


def test_crop_is_square_224_and_maps_landmarks():
    img = data.astronaut()
    lm = get_face_finder("dlib")(img)[0].landmarks
    c = crop_face(img, lm)
    assert c.image.shape == (224, 224, 3) and c.image.dtype == np.uint8
    x0, y0, side = c.square
    span = max(np.ptp(lm[:, 0]), np.ptp(lm[:, 1]))
    assert abs(side - 1.3 * span) <= 1
    np.testing.assert_allclose(c.landmarks, (lm - [x0, y0]) * 224 / side, atol=1e-3)
    # the landmark box is centred in the crop
    centre = (c.landmarks.min(0) + c.landmarks.max(0)) / 2
    np.testing.assert_allclose(centre, [112, 112], atol=2)


def test_crop_at_border_replicates_edge_pixels():
    img = np.zeros((100, 100, 3), np.uint8)
    img[:, :5] = 200  # bright left edge
    lm = np.array([[0.0, 30.0], [40.0, 70.0]] * 34)  # box touching the left border
    c = crop_face(img, lm, CropConfig(size=64))
    assert c.square[0] < 0
    assert c.image[:, 0].min() > 150  # padding repeats the bright edge, no black frame


def test_to_tensor_normalises_with_clip_stats():
    x = to_tensor([np.full((4, 4, 3), 255, np.uint8)])
    assert x.shape == (1, 3, 4, 4)
    expected = (1 - np.array(CropConfig().mean)) / np.array(CropConfig().std)
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), expected, rtol=1e-5)


def test_face_px_caps_detail():
    img = data.astronaut()
    lm = get_face_finder("dlib")(img)[0].landmarks
    full = crop_face(img, lm).image.astype(float)
    capped = crop_face(img, lm, CropConfig(face_px=48)).image.astype(float)
    sharp = lambda a: np.abs(np.diff(a, axis=1)).mean()  # noqa: E731
    assert capped.shape == full.shape and sharp(capped) < 0.7 * sharp(full)


def test_network_input_is_the_one_path_from_crop_to_network(detector):
    """JPEG finish then normalisation, and the detector and the training data both use exactly it."""
    import torch

    from detector.crop import finish, network_input
    from detector.imageio import jpeg_roundtrip
    from train.cache import FaceSet
    from train.data import PretextDataset

    img = data.astronaut()
    crop = detector.crop(img, detector.find_faces(img))[0]
    cfg = detector.crop_cfg
    x = network_input([crop.image], cfg)
    torch.testing.assert_close(x, to_tensor([jpeg_roundtrip(crop.image, cfg.jpeg_quality)], cfg))
    assert not np.array_equal(finish(crop.image, cfg), crop.image)  # the finish is a real re-encode
    with torch.inference_mode():
        z = detector.model.embed(x.to(detector.device)).cpu().numpy()
    np.testing.assert_allclose(detector.embed([crop.image]), z, rtol=1e-5, atol=1e-5)
    fs = FaceSet("t", "t", crop.image[None], crop.landmarks[None], np.zeros(1, int), np.full((1, 4), np.nan), ["a"], {})
    item, manipulated, _ = PretextDataset([fs], cfg, manip_prob=0.0)[0]
    assert manipulated == 0
    torch.testing.assert_close(item, x[0])


def test_cnn_fallback_finds_a_face_that_fills_the_frame_and_nothing_in_a_face_free_image():
    from detector.faces import DlibFaceFinder

    close = data.astronaut()[93:170, 184:261]  # the face alone, cut at the chin and temples: HOG misses it
    assert DlibFaceFinder(cnn_side=None)(close) == []
    faces = get_face_finder("dlib")(close)
    assert len(faces) == 1 and faces[0].landmarks.shape == (68, 2)
    x0, y0, x1, y1 = faces[0].box
    assert x1 - x0 > 0.5 * close.shape[1]  # the face, not a detail of it
    assert get_face_finder("dlib")(data.coffee()) == []  # the CNN runs here too (HOG finds nothing) and finds nothing
    assert get_face_finder("dlib").settings()["cnn_side"] == 256  # part of the training cache key


def test_padded_share_is_the_part_of_the_face_square_outside_the_image():
    from detector.crop import padded_share

    assert padded_share((10, 10, 50), (100, 100, 3)) == 0.0
    assert padded_share((-25, 0, 50), (100, 100)) == 0.5  # the left half hangs out
    assert padded_share((-25, -25, 50), (100, 100)) == 0.75
    assert padded_share((80, 80, 40), (100, 100)) == 1 - 20 * 20 / 40**2
    assert padded_share((200, 0, 40), (100, 100)) == 1.0
