"""The four EXIF tags the ranking heads learn: aperture (f-number), exposure time (s), focal length (mm), ISO.

Sources: JPEG EXIF via Pillow, or FDF-style JSON sidecars whose values are strings ("F2.8", "1/200 sec",
"50.0 mm", "400"). A missing or malformed value is NaN; a face with a NaN tag forms no pairs for that tag.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

TAGS = ("aperture", "exposure", "focal_length", "iso")
_EXIF_IFD = 0x8769
_FNUMBER, _APERTURE_VALUE, _EXPOSURE, _FOCAL, _ISO = 0x829D, 0x9202, 0x829A, 0x920A, 0x8827
_PHOTOGRAPHIC_SENSITIVITY = 0x8833


def _num(v) -> float:
    """A positive finite float from a Pillow rational, tuple, number or string; NaN otherwise."""
    try:
        if isinstance(v, (tuple, list)):
            if len(v) == 0:
                return math.nan
            if len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
                v = v[0] / v[1] if v[1] else math.nan
            else:
                v = v[0]
        if isinstance(v, bytes):
            v = v.decode("ascii", "ignore")
        if isinstance(v, str):
            return parse_value(v)
        f = float(v)
    except (TypeError, ValueError, ZeroDivisionError):
        return math.nan
    return f if math.isfinite(f) and f > 0 else math.nan


def parse_value(s: str) -> float:
    """Parse FDF-style strings: 'F2.8', 'f/4', '1/200 sec', '0.5s', '50.0 mm', 'ISO 400', '400'."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)", s.replace(",", "."))
    if not m:
        return math.nan
    try:
        f = float(Fraction(m.group(1)) / Fraction(m.group(2))) if m.group(1) else float(m.group(3))
    except (ValueError, ZeroDivisionError):
        return math.nan
    return f if math.isfinite(f) and f > 0 else math.nan


def tags_from_exif(exif: Image.Exif) -> np.ndarray:
    """(4,) float array from a Pillow Exif object: FNumber (else APEX ApertureValue), ExposureTime, FocalLength, ISO."""
    ifd = exif.get_ifd(_EXIF_IFD) if exif else {}
    merged = {**dict(exif or {}), **dict(ifd)}
    aperture = _num(merged.get(_FNUMBER))
    if math.isnan(aperture):
        apex = _num(merged.get(_APERTURE_VALUE)) if merged.get(_APERTURE_VALUE) not in (None, 0) else math.nan
        aperture = 2.0 ** (apex / 2.0) if math.isfinite(apex) else math.nan  # APEX Av -> f-number
    iso = _num(merged.get(_ISO, merged.get(_PHOTOGRAPHIC_SENSITIVITY)))
    return np.array([aperture, _num(merged.get(_EXPOSURE)), _num(merged.get(_FOCAL)), iso], dtype=np.float64)


def tags_from_image(path: str | Path) -> np.ndarray:
    try:
        with Image.open(path) as img:
            return tags_from_exif(img.getexif())
    except (OSError, SyntaxError, ValueError):
        return np.full(4, np.nan)


_JSON_KEYS = {
    "aperture": ("FNumber", "fnumber", "aperture", "Aperture", "f_number"),
    "exposure": ("ExposureTime", "exposure_time", "exposure", "Exposure"),
    "focal_length": ("FocalLength", "focal_length", "focal", "Focal Length"),
    "iso": ("ISOSpeedRatings", "PhotographicSensitivity", "iso", "ISO", "iso_speed"),
}


def tags_from_json(d: dict) -> np.ndarray:
    """FDF-style sidecar dict (keys in several spellings, values strings or numbers) -> (4,) array."""
    out = []
    for tag in TAGS:
        v = next((d[k] for k in _JSON_KEYS[tag] if k in d), None)
        out.append(_num(v) if v is not None else math.nan)
    return np.array(out, dtype=np.float64)


def tags_for_file(path: str | Path) -> np.ndarray:
    """Tags from a JSON sidecar next to the image (same stem, .json) if present, else from the image's EXIF."""
    side = Path(path).with_suffix(".json")
    if side.is_file():
        try:
            return tags_from_json(json.loads(side.read_text()))
        except (ValueError, OSError):
            return np.full(4, np.nan)
    return tags_from_image(path)
