"""Benign processing of real faces: what cameras, apps and websites do to a photo without making it any less
photographic - resizing, JPEG re-compression, blur, sensor-like noise - in random chains.

Why: every real training face comes from five web sources, each with its own size and compression chain, so a
model of "photographic faces" learns those chains ("looks like these sources") instead of "was photographed".
Processing real faces the way the world does, when training the network and when fitting and calibrating the
mixture, puts re-compressed and resized photos inside the modelled distribution. Real faces only: nothing here
ever sees an AI-generated image.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageFilter

from detector.imageio import jpeg_roundtrip

OPS = ("rescale", "jpeg", "blur", "noise")
VERSION = 2  # bump when an operation changes: cached features of processed copies are keyed by it


@dataclass(frozen=True)
class AugmentConfig:
    """Random chains of benign operations (0 probability: off, the paper)."""

    prob: float = 0.0  # chance that a face is processed at all
    steps: tuple[int, int] = (1, 3)  # chain length, inclusive
    rescale: tuple[float, float] = (0.25, 1.0)  # the face seen at this fraction of its resolution (down, then up)
    jpeg: tuple[int, int] = (50, 100)  # JPEG quality, inclusive
    blur: tuple[float, float] = (0.3, 1.5)  # Gaussian sigma in pixels of the crop
    noise: tuple[float, float] = (1.0, 6.0)  # Gaussian noise SD in 8-bit levels
    copies: int = 0  # processed copies of each face added when fitting/calibrating the mixture (0: none)

    def to_dict(self) -> dict:
        return asdict(self)


def rescale(rgb: np.ndarray, s: float, jpeg: int | None = None) -> np.ndarray:
    """The image seen at a fraction `s` of its resolution: shrunk (bicubic, antialiased), optionally JPEG-compressed
    at that size, and enlarged back."""
    h, w = rgb.shape[:2]
    small = Image.fromarray(rgb).resize((max(8, round(w * s)), max(8, round(h * s))), Image.BICUBIC)
    if jpeg:
        small = Image.fromarray(jpeg_roundtrip(np.asarray(small), jpeg))
    return np.asarray(small.resize((w, h), Image.BICUBIC))


def apply_op(rgb: np.ndarray, op: str, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """One benign operation with its strength drawn from cfg's range; same shape and dtype out. "rescale" is the
    face seen at lower resolution, JPEG-compressed there half of the time (a small web photo, enlarged): the
    compression blocks then land at the scale small real faces show them."""
    if op == "rescale":
        q = int(rng.integers(cfg.jpeg[0], cfg.jpeg[1] + 1)) if rng.random() < 0.5 else None
        return rescale(rgb, rng.uniform(*cfg.rescale), q)
    if op == "jpeg":
        return jpeg_roundtrip(rgb, int(rng.integers(cfg.jpeg[0], cfg.jpeg[1] + 1)))
    if op == "blur":
        return np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(rng.uniform(*cfg.blur))))
    if op == "noise":
        noisy = rgb.astype(np.float32) + rng.normal(0.0, rng.uniform(*cfg.noise), rgb.shape)
        return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    raise ValueError(f"unknown operation {op!r}; choose from {OPS}")


def benign(rgb: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, force: bool = False) -> np.ndarray:
    """With probability cfg.prob (always if `force`), a random chain of benign operations; else `rgb` unchanged."""
    hit = cfg.prob > 0 and rng.random() < cfg.prob  # drawn even when forced: same chain either way
    if not (hit or force):
        return rgb
    for op in rng.choice(OPS, size=int(rng.integers(cfg.steps[0], cfg.steps[1] + 1))):
        rgb = apply_op(rgb, str(op), rng, cfg)
    return rgb


def content_rng(rgb: np.ndarray, salt: int) -> np.random.Generator:
    """A generator seeded by the image's bytes and a salt: the same face always gets the same processing, in any
    order, in any process (so processed copies can be cached like any other features)."""
    digest = hashlib.sha1(np.ascontiguousarray(rgb).tobytes()).digest()[:8]
    return np.random.default_rng([salt, int.from_bytes(digest, "little")])
