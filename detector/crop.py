"""The one face crop and normalisation used by training and inference alike.

Crop rule (paper: "the square box around the detected face enlarged 1.3x, resized to 224"):
- the face box is the tight box of the 68 landmarks, so the crop is the same whichever backend found them;
- a square of side 1.3 x max(box width, box height) centred on that box;
- where the square leaves the image it is padded by replicating the border pixels (no black frame, which
  would be a cue the model could learn from crops near image edges);
- resized to 224x224 with Pillow's bicubic filter (antialiased when shrinking);
- optionally (`face_px`) first rendered at face_px x face_px and then resized to 224, which caps the detail
  every face is seen with: sources differ in native face size (128 px thumbnails vs 768 px renders), and
  without a cap, sharpness alone can separate them;
- finally `finish` re-encodes the crop once as JPEG (`jpeg_quality`, default 90) just before the network, at
  training (after any manipulation), GMM fitting, evaluation and inference alike. PNG and JPEG inputs, real
  or fake, thus reach the model through one identical compression, so the model cannot learn "PNG vs JPEG".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from PIL import Image

from .imageio import jpeg_roundtrip

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class CropConfig:
    """Preprocessing contract, saved in every artifact's config.json and checked on load."""

    size: int = 224
    scale: float = 1.3
    pad_mode: str = "edge"
    resample: str = "bicubic"
    face_px: int | None = None
    jpeg_quality: int | None = 90  # None or 0: no re-encode (the authors' own preprocessing)
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "CropConfig":
        d = {k: v for k, v in d.items() if k != "box_from"}  # always "landmarks"; written by format-1 artifacts
        d["mean"], d["std"] = tuple(d["mean"]), tuple(d["std"])
        return cls(**d)


@dataclass(frozen=True)
class Crop:
    """A face crop and where it came from; `landmarks` are in crop pixel coordinates."""

    image: np.ndarray  # (size, size, 3) uint8
    landmarks: np.ndarray  # (68, 2) float32
    square: tuple[int, int, int]  # x0, y0, side in source pixels


def square_box(landmarks: np.ndarray, scale: float) -> tuple[int, int, int]:
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    side = max(int(round(max(x1 - x0, y1 - y0) * scale)), 2)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    return int(round(cx - side / 2.0)), int(round(cy - side / 2.0)), side


def padded_share(square: tuple[int, int, int], shape: tuple[int, ...]) -> float:
    """The share (0-1) of the face square (x0, y0, side) that lies outside an image of `shape` (h, w, ...): the
    part of the crop filled in by padding. Faces cut tightly by the photo's frame are flagged more often
    (docs/experiments/2026-12-07-crop-padding)."""
    x0, y0, side = square
    h, w = shape[:2]
    inside_w = max(0, min(w, x0 + side) - max(0, x0))
    inside_h = max(0, min(h, y0 + side) - max(0, y0))
    return 1.0 - inside_w * inside_h / float(side * side)


def crop_face(rgb: np.ndarray, landmarks: np.ndarray, cfg: CropConfig = CropConfig()) -> Crop:
    """Cut the face square out of `rgb` (padding at borders) and resize it to cfg.size."""
    x0, y0, side = square_box(np.asarray(landmarks, dtype=np.float64), cfg.scale)
    h, w = rgb.shape[:2]
    pad_l, pad_t = max(0, -x0), max(0, -y0)
    pad_r, pad_b = max(0, x0 + side - w), max(0, y0 + side - h)
    region = rgb[max(0, y0) : min(h, y0 + side), max(0, x0) : min(w, x0 + side)]
    if pad_l or pad_t or pad_r or pad_b:
        region = np.pad(region, ((pad_t, pad_b), (pad_l, pad_r), (0, 0)), mode=cfg.pad_mode)
    resample = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}[cfg.resample]
    img = Image.fromarray(np.ascontiguousarray(region))
    if cfg.face_px and cfg.face_px < side:
        img = img.resize((cfg.face_px, cfg.face_px), resample)
    out = np.asarray(img.resize((cfg.size, cfg.size), resample))
    lm = ((np.asarray(landmarks, dtype=np.float64) - [x0, y0]) * (cfg.size / side)).astype(np.float32)
    return Crop(image=out, landmarks=lm, square=(x0, y0, side))


def finish(crop: np.ndarray, cfg: CropConfig = CropConfig()) -> np.ndarray:
    """The last preprocessing step before the network: one JPEG re-encode at cfg.jpeg_quality (if set)."""
    return jpeg_roundtrip(crop, cfg.jpeg_quality) if cfg.jpeg_quality else crop


def to_tensor(crops: list[np.ndarray] | np.ndarray, cfg: CropConfig = CropConfig()) -> torch.Tensor:
    """uint8 (N, H, W, 3) crops -> float (N, 3, H, W) normalised with the configured mean/std (no JPEG finish:
    use `network_input` for what the network sees)."""
    a = torch.from_numpy(np.ascontiguousarray(np.stack(list(crops))))
    x = a.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(cfg.mean).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std).view(1, 3, 1, 1)
    return (x - mean) / std


def network_input(crops: list[np.ndarray] | np.ndarray, cfg: CropConfig = CropConfig()) -> torch.Tensor:
    """Raw crops (uint8, as `crop_face` makes them, possibly manipulated or processed) -> the network's input tensor:
    `finish` (the JPEG re-encode) then normalisation. The one path from crop to network, at training (pretext and
    baseline), GMM fitting, evaluation, inference and explanation alike."""
    return to_tensor([finish(np.asarray(c), cfg) for c in crops], cfg)
