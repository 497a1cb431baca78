"""Fixed spectral features of the crop, each scored by its own mixture next to the network embedding.

Why: generators up-sample, and up-sampling leaves periodic traces that show in the power spectrum of a face crop
whatever the face looks like. Two profiles of the crop's 2-D power spectrum, one value per integer-radius ring:
- "spectrum": the log mean power of the ring (radially averaged), where a mixture alone beats the untrained network
  on several generators (the card's reference row);
- "axis": the log of the mean power within 1 px of the horizontal and vertical frequency axes over the ring's mean
  power. Up-sampling layers work along rows and columns, so their traces are directional, and a ring average
  dilutes them: this profile lifted StyleGAN3 where the ring average sees it at chance
  (docs/experiments/2026-12-02-spectral-traces).
- "ripple": the ring profile minus its own Gaussian-smoothed curve (RIPPLE_SIGMA rings, reflected at the ends).
  Sharpening, blur and contrast multiply the spectrum by a gain that is smooth in the radius, i.e. add a smooth
  curve to the log profile, which cancels here; up-sampling traces are narrow peaks and notches at fixed rings, which
  stay. On 64 components, in place of the raw profile, it cut the false alarms on sharpened faces of unseen sources
  2.2-5x on seeds 0-2, whole-photo edits included (docs/experiments/2026-12-06-detrended-spectrum).
All are computed from the network's own input tensor (after the JPEG finish), so every feature sees the same
pixels, and in torch, so an explanation map can differentiate through them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from .crop import CropConfig, network_input


def spectrum_width(crop: CropConfig) -> int:
    """Number of "spectrum" features of a crop: one per ring from radius 1 to below the Nyquist radius (ring 0, the
    mean, is removed before the transform)."""
    return crop.size // 2 - 1


def axis_width(crop: CropConfig) -> int:
    """Number of "axis" features: one per ring from radius 2 (every pixel of ring 1 lies on an axis)."""
    return crop.size // 2 - 2


@lru_cache(maxsize=4)
def _rings(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For an n x n centred spectrum: the flat indices inside the Nyquist circle, their ring, the ring sizes, which
    of them lie within 1 px of an axis, and the number of those per ring. (numpy: a cached torch tensor made under
    inference_mode could not be used where autograd is on.)"""
    yy, xx = np.indices((n, n)) - n // 2
    ring = np.hypot(yy, xx).astype(np.int64).ravel()
    keep = np.nonzero(ring < n // 2)[0]
    on_axis = ((np.abs(yy) <= 1) | (np.abs(xx) <= 1)).ravel()[keep]
    counts = np.bincount(ring[keep], minlength=n // 2).astype(np.float64)
    axis_counts = np.bincount(ring[keep][on_axis], minlength=n // 2).astype(np.float64)
    return keep, ring[keep], counts, np.nonzero(on_axis)[0], axis_counts


def _ring_log_means(x: torch.Tensor, crop: CropConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, H, W) network input -> log mean power per ring over the whole ring and on the axes, (N, H // 2) each,
    of the greyscale crop in 0-255 units, float64."""
    mean = torch.tensor(crop.mean, dtype=torch.float64, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(crop.std, dtype=torch.float64, device=x.device).view(1, 3, 1, 1)
    grey = (255.0 * (x.double() * std + mean)).mean(1)
    grey = grey - grey.mean(dim=(1, 2), keepdim=True)
    power = torch.fft.fftshift(torch.fft.fft2(grey), dim=(1, 2)).abs() ** 2
    n = grey.shape[-1]
    keep, ring, counts, axis, axis_counts = (torch.from_numpy(a).to(x.device) for a in _rings(n))
    p = power.flatten(1)[:, keep]
    rings = power.new_zeros(len(x), n // 2).index_add(1, ring, p)
    on_axis = power.new_zeros(len(x), n // 2).index_add(1, ring[axis], p[:, axis])
    return torch.log(rings / counts.clamp(min=1) + 1e-6), torch.log(on_axis / axis_counts.clamp(min=1) + 1e-6)


RIPPLE_SIGMA = 4.0  # rings; 8 flagged 7% of a left-out source on one seed, 2 kept more of the sharpening


@lru_cache(maxsize=4)
def _detrend(width: int, sigma: float) -> np.ndarray:
    """(width, width) matrix M with profile @ M = the profile minus its Gaussian smoothing along the rings (scipy's
    gaussian_filter1d, mode "reflect", as a matrix: one product, differentiable, the same on every device)."""
    smooth = gaussian_filter1d(np.eye(width), sigma, axis=0, mode="reflect")  # column j: the smoothing of e_j
    return np.eye(width) - smooth.T


def _ripple(profile: torch.Tensor) -> torch.Tensor:
    return profile @ torch.from_numpy(_detrend(profile.shape[1], RIPPLE_SIGMA)).to(profile)


Profile = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (ring, on-axis log means) -> a block's features

# The spectral feature blocks an anomaly model may score, by expert name: (profile, width).
SPECTRAL: dict[str, tuple[Profile, Callable[[CropConfig], int]]] = {
    "spectrum": (lambda rings, on_axis: rings[:, 1:], spectrum_width),  # radius 1 to H // 2 - 1
    "ripple": (lambda rings, on_axis: _ripple(rings[:, 1:]), spectrum_width),  # the same rings, detrended
    "axis": (lambda rings, on_axis: (on_axis - rings)[:, 2:], axis_width),  # radius 2 to H // 2 - 1
}


def spectral_tensors(x: torch.Tensor, crop: CropConfig, blocks: tuple[str, ...]) -> list[torch.Tensor]:
    """(N, 3, H, W) network input (as `network_input` makes it) -> each named block's (N, width) float64 features,
    from one FFT. Differentiable."""
    if not blocks:
        return []
    rings, on_axis = _ring_log_means(x, crop)
    return [SPECTRAL[b][0](rings, on_axis) for b in blocks]


def input_spectrum(x: torch.Tensor, crop: CropConfig) -> torch.Tensor:
    """(N, 3, H, W) network input -> (N, H // 2 - 1) float64 log mean power per ring (radius 1 to H // 2 - 1) of the
    greyscale crop in 0-255 units. Differentiable."""
    return spectral_tensors(x, crop, ("spectrum",))[0]


def axis_spectrum(x: torch.Tensor, crop: CropConfig) -> torch.Tensor:
    """(N, 3, H, W) network input -> (N, H // 2 - 2) float64: per ring (radius 2 to H // 2 - 1), the log mean power
    within 1 px of the frequency axes minus the ring's log mean power. Differentiable."""
    return spectral_tensors(x, crop, ("axis",))[0]


@torch.inference_mode()
def spectral(crops: list[np.ndarray] | np.ndarray, crop: CropConfig, block: str = "spectrum") -> np.ndarray:
    """Raw crops (uint8, as `crop_face` makes them) -> (N, width) float32 features of one spectral block."""
    if not len(crops):
        return np.zeros((0, SPECTRAL[block][1](crop)), np.float32)
    return spectral_tensors(network_input(crops, crop), crop, (block,))[0].float().numpy()


def log_spectrum(crops: list[np.ndarray] | np.ndarray, crop: CropConfig) -> np.ndarray:
    """Raw crops -> (N, size // 2 - 1) float32 log spectrum ("spectrum" block) features."""
    return spectral(crops, crop, "spectrum")
