"""Read any image the user gives us into an upright 8-bit RGB array, or refuse it clearly.

Every image, real or fake, at training or inference, enters through `load_image`, so the colour
conversion below is part of the model's preprocessing contract.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps

from .errors import ImageReadError, ImageTooLargeError

ImageInput = Union[str, Path, bytes, Image.Image, np.ndarray]

# 40 megapixels: a 50 MP phone photo must be downscaled first; a 30000x30000 "bomb" is refused from its
# header, before any pixel is decoded.
MAX_PIXELS = 40_000_000


def load_image(source: ImageInput, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Return an (H, W, 3) uint8 RGB array with EXIF orientation applied.

    Accepts a path, raw bytes, a PIL image or an array (HxW or HxWx{3,4}, uint8).
    Raises ImageReadError (not an image, truncated) or ImageTooLargeError.
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        _check_size(source, max_pixels, "image")
        return to_rgb(ImageOps.exif_transpose(source))
    name = str(source) if isinstance(source, (str, Path)) else "<bytes>"
    try:
        fp = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    except OSError as e:
        raise ImageReadError(f"{name}: cannot open ({e.strerror or e})") from e
    with fp:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(fp)
                _check_size(img, max_pixels, name)
                img.load()  # decode now so truncation surfaces here, not later
        except ImageTooLargeError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise ImageTooLargeError(f"{name}: image too large to decode safely ({e})") from e
        except Image.UnidentifiedImageError as e:
            raise ImageReadError(f"{name}: not an image file Pillow can read") from e
        except (OSError, SyntaxError, ValueError) as e:
            raise ImageReadError(f"{name}: corrupt or truncated image ({e})") from e
        try:
            return to_rgb(ImageOps.exif_transpose(img))
        except (OSError, ValueError) as e:
            raise ImageReadError(f"{name}: cannot convert image ({e})") from e


def _check_size(img: Image.Image, max_pixels: int, name: str) -> None:
    w, h = img.size
    if w * h > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {w}x{h} is {w * h / 1e6:.0f} MP, above the {max_pixels / 1e6:.0f} MP limit; downscale it first"
        )
    if w < 1 or h < 1:
        raise ImageReadError(f"{name}: empty image ({w}x{h})")


def to_rgb(img: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to 8-bit RGB on purpose rather than relying on Pillow's defaults.

    - alpha modes (RGBA, LA, PA, P with transparency) are composited over white, as a viewer shows them;
    - 16/32-bit integer and float greyscale (I;16, I, F) are rescaled from their own range to 0..255
      (Pillow's plain convert would clip them to white);
    - CMYK, YCbCr, L, 1, P go through Pillow's colour conversion.
    """
    mode = img.mode
    if mode == "RGB":
        return np.asarray(img, dtype=np.uint8).copy()
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(img).astype(np.float64)
        if mode.startswith("I;16"):
            a = a / 65535.0
        else:
            lo, hi = float(a.min()), float(a.max())
            a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
        g = np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.uint8).copy()
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def _array_to_rgb(a: np.ndarray) -> np.ndarray:
    if a.dtype != np.uint8:
        raise ImageReadError(f"array input must be uint8, got {a.dtype}")
    if a.ndim == 2:
        return np.repeat(a[..., None], 3, axis=2)
    if a.ndim == 3 and a.shape[2] == 3:
        return np.ascontiguousarray(a)
    if a.ndim == 3 and a.shape[2] == 4:
        return to_rgb(Image.fromarray(a, "RGBA"))
    raise ImageReadError(f"array input must be HxW or HxWx3/4, got shape {a.shape}")


def jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG at `quality` and decode again (used for matched processing and robustness)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.uint8).copy()
