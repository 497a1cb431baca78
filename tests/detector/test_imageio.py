import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from detector.errors import ImageReadError, ImageTooLargeError
from detector.imageio import jpeg_roundtrip, load_image
from tests.conftest import jpeg_bytes


def test_bad_inputs_raise_typed_errors(bad_files):
    with pytest.raises(ImageReadError, match="not an image"):
        load_image(bad_files["text"])
    with pytest.raises(ImageReadError, match="truncated"):
        load_image(bad_files["truncated"])
    with pytest.raises(ImageTooLargeError, match="30000x30000|too large"):
        load_image(bad_files["bomb"])
    with pytest.raises(ImageReadError, match="cannot open"):
        load_image(bad_files["text"].with_name("missing.png"))


def test_too_large_is_refused_before_decoding(tmp_path):
    p = tmp_path / "big.png"
    Image.new("RGB", (300, 200)).save(p)
    with pytest.raises(ImageTooLargeError):
        load_image(p, max_pixels=300 * 200 - 1)
    assert load_image(p, max_pixels=300 * 200).shape == (200, 300, 3)


def test_cmyk_jpeg_becomes_rgb():
    rgb = np.zeros((32, 48, 3), np.uint8)
    rgb[..., 0] = 200  # red-ish
    cmyk = Image.fromarray(rgb).convert("CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, format="JPEG", quality=95)
    out = load_image(buf.getvalue())
    assert out.shape == (32, 48, 3) and out.dtype == np.uint8
    assert abs(int(out[..., 0].mean()) - 200) < 8 and out[..., 1].mean() < 10


def test_16bit_greyscale_is_rescaled_not_clipped(tmp_path):
    a = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    p = tmp_path / "g16.png"
    Image.fromarray(a).save(p)
    assert Image.open(p).mode.startswith("I")
    out = load_image(p)
    assert out.shape == (64, 64, 3)
    assert out.min() == 0 and out.max() == 255 and 100 < out.mean() < 155  # full range kept


def test_alpha_is_composited_on_white():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent black
    out = load_image(Image.fromarray(rgba, "RGBA"))
    assert (out == 255).all()
    la = Image.fromarray(np.full((8, 8), 0, np.uint8), "L").convert("LA")
    assert (load_image(la) == 0).all()  # opaque black stays black


def test_palette_and_greyscale(tmp_path):
    img = Image.fromarray(data.astronaut()).convert("P")
    assert load_image(img).shape == (512, 512, 3)
    assert load_image(data.camera()).shape == (512, 512, 3)


def test_exif_orientation_is_applied(tmp_path):
    rgb = np.zeros((40, 100, 3), np.uint8)
    rgb[:, :10] = 255  # white stripe on the left
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 CW to display
    p = tmp_path / "rot.jpg"
    img.save(p, exif=exif, quality=95)
    out = load_image(p)
    assert out.shape == (100, 40, 3)
    assert out[:10].mean() > 200  # the stripe is now on top


def test_jpeg_roundtrip_changes_pixels_a_little():
    a = data.astronaut()
    b = jpeg_roundtrip(a, 50)
    assert b.shape == a.shape and 0 < np.abs(a.astype(int) - b).mean() < 10
    assert len(jpeg_bytes(a, quality=50)) > 0
