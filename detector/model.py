"""Feature extractor f(x) and the five scalar heads g_i; the only model definition in the project."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchvision import models

HEAD_NAMES = ("aperture", "exposure", "focal_length", "iso", "manipulated")

_BACKBONES = {"resnet18": models.resnet18, "resnet34": models.resnet34, "resnet50": models.resnet50}


@dataclass(frozen=True)
class ModelConfig:
    """Architecture; saved next to every set of weights."""

    backbone: str = "resnet50"  # paper: ResNet-50
    embed_dim: int = 768  # paper: N = 768
    input_filter: str = "none"  # "none" (paper), "highpass" (see HighPass) or "rgb+highpass" (see RGBHighPass)

    def to_dict(self) -> dict:
        return asdict(self)


class HighPass(nn.Module):
    """Fixed residual filter x - blur(x) (5x5 binomial blur, per channel), times `gain`.

    Why: a randomly initialised ResNet trained on ~6k faces mostly encodes face content, and truncated GAN
    faces are *typical* content (they sit near the mode of the face distribution). What separates generated
    from photographic faces is fine structure (sensor noise, demosaicing, upsampling traces), which the EXIF
    ranking tasks are about too. Feeding the residual makes that structure the input. Chosen by validation
    AUC; the model card reports it against the unfiltered input. Not trainable, not saved in the weights.
    """

    def __init__(self, gain: float = 8.0) -> None:
        super().__init__()
        k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
        k = torch.outer(k, k) / k.sum() ** 2
        self.register_buffer("kernel", k.expand(3, 1, 5, 5).contiguous(), persistent=False)
        self.gain = gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blur = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), self.kernel.to(x.dtype), groups=3)
        return (x - blur) * self.gain


class NormalisedHighPass(nn.Module):
    """HighPass divided by the residual's own RMS over the crop (per image and channel): the pattern of fine
    structure without its overall strength, so a sharper or blurrier photo of the same kind of face - another
    camera, another resize, another compression - lands in the same place, while generation traces that change
    the *shape* of the residual (too smooth here, too regular there) remain."""

    def __init__(self) -> None:
        super().__init__()
        self.highpass = HighPass(gain=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.highpass(x)
        return r / r.pow(2).mean(dim=(2, 3), keepdim=True).add(1e-6).sqrt()


class RGBHighPass(nn.Module):
    """The crop and its high-pass residual side by side (6 channels): colour, light and content statistics, which
    stay stable when a face is resized or re-compressed, beside the fine structure HighPass isolates."""

    def __init__(self) -> None:
        super().__init__()
        self.highpass = HighPass()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.highpass(x)], dim=1)


_FILTERS = {"none": nn.Identity, "highpass": HighPass, "highpass_norm": NormalisedHighPass, "rgb+highpass": RGBHighPass}
_CHANNELS = {"none": 3, "highpass": 3, "highpass_norm": 3, "rgb+highpass": 6}


class FaceNet(nn.Module):
    """ResNet with fc replaced by Linear(features -> embed_dim), plus five Linear(embed_dim, 1) heads.

    The five heads are stored as one Linear(embed_dim, 5): row i is head i, mathematically the same as five
    separate Linear(embed_dim, 1) layers, in one matmul. Column order is HEAD_NAMES.
    """

    def __init__(self, cfg: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        if cfg.backbone not in _BACKBONES:
            raise ValueError(f"backbone must be one of {sorted(_BACKBONES)}, got {cfg.backbone!r}")
        if cfg.input_filter not in _FILTERS:
            raise ValueError(f"input_filter must be one of {sorted(_FILTERS)}, got {cfg.input_filter!r}")
        self.cfg = cfg
        self.prefilter = _FILTERS[cfg.input_filter]()
        self.backbone = _BACKBONES[cfg.backbone](weights=None)  # no pretrained weights exist offline
        if _CHANNELS[cfg.input_filter] != 3:
            old = self.backbone.conv1
            self.backbone.conv1 = nn.Conv2d(_CHANNELS[cfg.input_filter], old.out_channels, old.kernel_size,
                                            old.stride, old.padding, bias=False)
        self.backbone.fc = nn.Linear(self.backbone.fc.in_features, cfg.embed_dim)
        self.heads = nn.Linear(cfg.embed_dim, len(HEAD_NAMES))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """z = f(x): (N, 3, 224, 224) -> (N, embed_dim)."""
        return self.backbone(self.prefilter(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (z, head scores (N, 5)); heads 0-3 rank EXIF tags, head 4 scores 'manipulated'."""
        z = self.embed(x)
        return z, self.heads(z)
