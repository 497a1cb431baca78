"""The four artificial face manipulations of the pretext task, built from 68 iBUG landmarks.

All work on a face crop (uint8 HxWx3) with its landmarks in crop coordinates, are deterministic given a seed,
and return (manipulated image, mask). The mask is float32 HxW in [0, 1]: the per-pixel blend weight of the
manipulated content. Pixels where the mask is 0 are bit-identical to the input.

- eye_flip: each eye flipped left-right inside its own box, blended back with a soft mask;
- mouth_flip_h / mouth_flip_v: the mouth flipped left-right / upside-down inside its box, soft-blended;
- piecewise_affine: imgaug's PiecewiseAffine (4x4 grid, each point jittered by N(0, s) x image size, s drawn
  per image, destination points clipped to the image, bilinear, constant 0 outside), ported onto
  scikit-image directly because imgaug 0.4 does not import with numpy 2. Its mask is all ones (global).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.draw import polygon as draw_polygon
from skimage.transform import PiecewiseAffineTransform, warp

MANIPULATIONS = ("eye_flip", "mouth_flip_h", "mouth_flip_v", "piecewise_affine")

# iBUG-68 index ranges
RIGHT_EYE = slice(36, 42)  # subject's right eye, image left
LEFT_EYE = slice(42, 48)
MOUTH = slice(48, 68)


@dataclass(frozen=True)
class ManipulationConfig:
    """Knobs of the manipulations; saved with training runs. Defaults follow the method's description."""

    margin: float = 0.3  # the part's box and mask are enlarged by this fraction of the part's size
    feather: float = 0.12  # soft-mask Gaussian sigma as a fraction of the part's size
    strength: float = 1.0  # blend weight at the centre of the mask (1 = full replacement)
    warp_scale: tuple[float, float] = (0.01, 0.04)  # imgaug default is (0.0, 0.04); 0 would be a no-op
    warp_grid: int = 4  # imgaug's nb_rows = nb_cols = 4

    def to_dict(self) -> dict:
        return asdict(self)


def _soft_mask(shape: tuple[int, int], pts: np.ndarray, cfg: ManipulationConfig) -> tuple[np.ndarray, tuple]:
    """Mask of the part's landmark polygon enlarged about its centroid, feathered, zero outside the part box."""
    h, w = shape
    size = float(max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]), 2.0))
    c = pts.mean(axis=0)
    poly = c + (pts - c) * (1.0 + cfg.margin)
    hard = np.zeros((h, w), dtype=np.float32)
    rr, cc = draw_polygon(poly[:, 1], poly[:, 0], shape=(h, w))
    hard[rr, cc] = 1.0
    mask = gaussian_filter(hard, sigma=cfg.feather * size)
    m = cfg.margin * size + 3.0 * cfg.feather * size
    x0, y0 = int(max(0, np.floor(pts[:, 0].min() - m))), int(max(0, np.floor(pts[:, 1].min() - m)))
    x1, y1 = int(min(w, np.ceil(pts[:, 0].max() + m) + 1)), int(min(h, np.ceil(pts[:, 1].max() + m) + 1))
    boxed = np.zeros_like(mask)
    boxed[y0:y1, x0:x1] = mask[y0:y1, x0:x1]
    if boxed.max() > 0:
        boxed /= boxed.max()
    boxed[boxed < 1e-3] = 0.0
    return boxed * cfg.strength, (x0, y0, x1, y1)


def _flip_parts(image: np.ndarray, parts: list[np.ndarray], axis: int, cfg: ManipulationConfig):
    out = image.astype(np.float32)
    total = np.zeros(image.shape[:2], dtype=np.float32)
    for pts in parts:
        mask, (x0, y0, x1, y1) = _soft_mask(image.shape[:2], pts, cfg)
        flipped = out.copy()
        region = out[y0:y1, x0:x1]
        flipped[y0:y1, x0:x1] = region[:, ::-1] if axis == 1 else region[::-1, :]
        out = out * (1.0 - mask[..., None]) + flipped * mask[..., None]
        total = np.maximum(total, mask)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), total


def piecewise_affine(image: np.ndarray, rng: np.random.Generator, cfg: ManipulationConfig) -> np.ndarray:
    h, w = image.shape[:2]
    n = max(cfg.warp_grid, 2)
    scale = rng.uniform(*cfg.warp_scale)
    yy, xx = np.meshgrid(np.linspace(0, h, n), np.linspace(0, w, n), indexing="ij")
    src = np.stack([yy.ravel(), xx.ravel()], axis=1)  # (row, col) like imgaug
    jitter = rng.normal(0.0, scale, size=src.shape) * [h, w]
    dst = src + jitter
    dst[:, 0] = np.clip(dst[:, 0], 0, h - 1)
    dst[:, 1] = np.clip(dst[:, 1], 0, w - 1)
    tform = PiecewiseAffineTransform.from_estimate(src[:, ::-1], dst[:, ::-1])
    if not tform:  # degenerate triangulation (cannot happen for a jittered regular grid, but be explicit)
        return image.copy()
    out = warp(image, tform, order=1, mode="constant", cval=0, preserve_range=True)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def manipulate(
    image: np.ndarray,
    landmarks: np.ndarray,
    kind: str,
    seed: int | np.random.Generator | None = 0,
    cfg: ManipulationConfig = ManipulationConfig(),
) -> tuple[np.ndarray, np.ndarray]:
    """Apply manipulation `kind` (one of MANIPULATIONS); returns (image uint8, mask float32 in [0, 1])."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2):
        raise ValueError(f"need (68, 2) landmarks, got {lm.shape}")
    if kind == "eye_flip":
        return _flip_parts(image, [lm[RIGHT_EYE], lm[LEFT_EYE]], axis=1, cfg=cfg)
    if kind == "mouth_flip_h":
        return _flip_parts(image, [lm[MOUTH]], axis=1, cfg=cfg)
    if kind == "mouth_flip_v":
        return _flip_parts(image, [lm[MOUTH]], axis=0, cfg=cfg)
    if kind == "piecewise_affine":
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        return piecewise_affine(image, rng, cfg), np.ones(image.shape[:2], dtype=np.float32)
    raise ValueError(f"unknown manipulation {kind!r}; choose from {MANIPULATIONS}")


def random_manipulation(
    image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, cfg: ManipulationConfig = ManipulationConfig()
) -> tuple[np.ndarray, np.ndarray, str]:
    """One of the four manipulations, chosen uniformly (the official code's sampling)."""
    kind = MANIPULATIONS[int(rng.integers(len(MANIPULATIONS)))]
    out, mask = manipulate(image, landmarks, kind, rng, cfg)
    return out, mask, kind
