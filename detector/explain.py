"""Explanation maps: where in a face crop the log-likelihood is pulled down.

Gradient x input of the face's score (each expert's GMM log-likelihood written in torch, so it is differentiable:
the embedding's through the network, the spectral profiles' through the FFT), summed over colour channels; only the
negative part is kept (pixels whose presence lowers the score), smoothed and scaled to [0, 1]. It is a local
sensitivity map of this model, not proof of where an image was generated.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from .anomaly import AnomalyModel
from .crop import network_input
from .pipeline import Detector
from .product import spectral_blocks
from .spectrum import spectral_tensors

CAVEAT = ("Warm areas lower this face's likelihood under the photographic-face model the most (gradient x input): "
          "a sensitivity map of the model, not proof of where the image was generated.")


def torch_log_likelihood(z: torch.Tensor, anomaly: AnomalyModel) -> torch.Tensor:
    """log p(z) of the anomaly model (projection, then a full/diag/spherical/tied GaussianMixture), matching
    AnomalyModel.score, in torch."""
    g = anomaly.gmm
    dev, dt = z.device, torch.float64
    z = z.to(dt)
    if anomaly.projection is not None:
        mean, matrix = (torch.as_tensor(a, device=dev, dtype=dt) for a in anomaly.projection)
        z = (z - mean) @ matrix
    means = torch.as_tensor(g.means_, device=dev, dtype=dt)
    chol = torch.as_tensor(g.precisions_cholesky_, device=dev, dtype=dt)
    d = z.shape[1]
    if g.covariance_type == "full":
        y = torch.einsum("nd,kde->nke", z, chol) - torch.einsum("kd,kde->ke", means, chol)[None]
        log_det = torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(1)
    elif g.covariance_type == "tied":
        y = (z @ chol)[:, None, :] - (means @ chol)[None]
        log_det = torch.log(torch.diagonal(chol)).sum().expand(len(means))
    elif g.covariance_type == "diag":
        y = (z[:, None, :] - means[None]) * chol[None]
        log_det = torch.log(chol).sum(1)
    else:  # spherical
        y = (z[:, None, :] - means[None]) * chol[None, :, None]
        log_det = d * torch.log(chol)
    log_prob = -0.5 * (d * math.log(2 * math.pi) + (y**2).sum(-1)) + log_det
    return torch.logsumexp(log_prob + torch.log(torch.as_tensor(g.weights_, device=dev, dtype=dt)), dim=1)


def torch_score(det: Detector, x: torch.Tensor) -> torch.Tensor:
    """The detector's score of network inputs x (N, 3, H, W), matching Detector.analyse, in torch: the sum of its
    experts' log-likelihoods."""
    blocks = spectral_blocks(det.anomaly.experts)
    features = {"embedding": det.model.embed(x), **dict(zip(blocks, spectral_tensors(x, det.crop_cfg, blocks)))}
    return sum(torch_log_likelihood(features[k], m) for k, m in det.anomaly.experts.items())


def explanation_map(det: Detector, crop: np.ndarray, sigma: float = 4.0) -> np.ndarray:
    """(H, W) float32 map in [0, 1] for one raw crop (as `crop_face` makes it)."""
    x = network_input([crop], det.crop_cfg).to(det.device).requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(torch_score(det, x).sum(), x)
    attribution = (grad * x).sum(1)[0].detach().cpu().numpy()
    m = gaussian_filter(np.clip(-attribution, 0, None), sigma)
    return (m / m.max()).astype(np.float32) if m.max() > 0 else m.astype(np.float32)


def overlay(crop: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Heat map (inferno-like ramp) blended over the crop, uint8 RGB."""
    h = heat[..., None]
    colour = np.concatenate([np.clip(3 * h, 0, 1), np.clip(3 * h - 1, 0, 1), np.clip(3 * h - 2, 0, 1) * 0.6], axis=2)
    out = crop.astype(np.float32) * (1 - alpha * h) + 255 * colour * alpha * h
    return np.clip(out, 0, 255).astype(np.uint8)
