import math

import numpy as np
from PIL import Image

from train.exif import parse_value, tags_for_file, tags_from_json


def test_fdf_style_strings():
    assert parse_value("F2.8") == 2.8
    assert parse_value("f/4") == 4.0
    assert parse_value("1/200 sec") == 0.005
    assert parse_value("0.5s") == 0.5
    assert parse_value("50.0 mm") == 50.0
    assert parse_value("ISO 400") == 400.0
    for bad in ("", "n/a", "0", "1/0"):
        assert math.isnan(parse_value(bad))
    t = tags_from_json({"FNumber": "F2.8", "ExposureTime": "1/200 sec", "FocalLength": "50.0 mm", "ISOSpeedRatings": "400"})
    np.testing.assert_allclose(t, [2.8, 0.005, 50.0, 400.0])
    t = tags_from_json({"FNumber": "F2.8", "ISOSpeedRatings": "garbage"})
    assert t[0] == 2.8 and np.isnan(t[1:]).all()


def _jpeg_with_exif(path, ifd: dict):
    img = Image.new("RGB", (16, 16), (128, 100, 90))
    exif = img.getexif()
    sub = exif.get_ifd(0x8769)
    sub.update(ifd)
    img.save(path, exif=exif)


def test_jpeg_exif_rationals_and_fallbacks(tmp_path):
    from PIL.TiffImagePlugin import IFDRational

    p = tmp_path / "a.jpg"
    _jpeg_with_exif(p, {0x829D: IFDRational(28, 10), 0x829A: IFDRational(1, 250), 0x920A: IFDRational(35, 1), 0x8827: 800})
    np.testing.assert_allclose(tags_for_file(p), [2.8, 0.004, 35.0, 800.0])
    q = tmp_path / "b.jpg"  # no FNumber: APEX ApertureValue 3 -> f/2.83; ISO missing
    _jpeg_with_exif(q, {0x9202: IFDRational(3, 1), 0x829A: IFDRational(1, 60)})
    t = tags_for_file(q)
    assert t[0] == np.float64(2 ** 1.5) and t[1] == 1 / 60 and np.isnan(t[2]) and np.isnan(t[3])
    r = tmp_path / "c.jpg"  # malformed: zero denominator
    _jpeg_with_exif(r, {0x829D: IFDRational(28, 0)})
    assert np.isnan(tags_for_file(r)[0])
    s = tmp_path / "d.jpg"  # a JSON sidecar wins over (absent) EXIF
    Image.new("RGB", (8, 8)).save(s)
    s.with_suffix(".json").write_text('{"FNumber": "F1.8", "ExposureTime": "1/100 sec"}')
    assert tags_for_file(s)[0] == 1.8 and tags_for_file(s)[1] == 0.01
