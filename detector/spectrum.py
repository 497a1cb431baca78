"""The crop's radially averaged log power spectrum: a fixed feature scored next to the network embedding.

Why: generators up-sample, and up-sampling leaves periodic traces that show in the power spectrum of a face crop
whatever the face looks like; a mixture on this 1-D profile alone beats the untrained network on several
generators (the card's reference row). It is computed from the network's own input tensor (after the JPEG finish),
so the two features see the same pixels, and in torch, so an explanation map can differentiate through it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .crop import CropConfig, network_input


def spectrum_width(crop: CropConfig) -> int:
    """Number of spectrum features of a crop: one per integer-radius ring from 1 to below the Nyquist radius (ring
    0, the mean, is removed before the transform)."""
    return crop.size // 2 - 1


@lru_cache(maxsize=4)
def _rings(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For an n x n centred spectrum: the flat indices inside the Nyquist circle, their ring, and ring sizes.
    (numpy: a cached torch tensor made under inference_mode could not be used where autograd is on.)"""
    yy, xx = np.indices((n, n)) - n // 2
    ring = np.hypot(yy, xx).astype(np.int64).ravel()
    keep = np.nonzero(ring < n // 2)[0]
    return keep, ring[keep], np.bincount(ring[keep], minlength=n // 2).astype(np.float64)


def input_spectrum(x: torch.Tensor, crop: CropConfig) -> torch.Tensor:
    """(N, 3, H, W) network input (as `network_input` makes it) -> (N, H // 2 - 1) float64 log mean power per ring
    (radius 1 to H // 2 - 1) of the greyscale crop in 0-255 units. Differentiable."""
    mean = torch.tensor(crop.mean, dtype=torch.float64, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(crop.std, dtype=torch.float64, device=x.device).view(1, 3, 1, 1)
    grey = (255.0 * (x.double() * std + mean)).mean(1)
    grey = grey - grey.mean(dim=(1, 2), keepdim=True)
    power = torch.fft.fftshift(torch.fft.fft2(grey), dim=(1, 2)).abs() ** 2
    n = grey.shape[-1]
    keep, ring, counts = (torch.from_numpy(a).to(x.device) for a in _rings(n))
    rings = power.new_zeros(len(x), n // 2).index_add(1, ring, power.flatten(1)[:, keep])
    return torch.log(rings[:, 1:] / counts[1:] + 1e-6)


@torch.inference_mode()
def log_spectrum(crops: list[np.ndarray] | np.ndarray, crop: CropConfig) -> np.ndarray:
    """Raw crops (uint8, as `crop_face` makes them) -> (N, size // 2 - 1) float32 log spectrum features."""
    if not len(crops):
        return np.zeros((0, spectrum_width(crop)), np.float32)
    return input_spectrum(network_input(crops, crop), crop).float().numpy()
