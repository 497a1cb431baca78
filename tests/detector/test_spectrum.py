import numpy as np
import torch
from PIL import Image, ImageFilter
from scipy.ndimage import gaussian_filter1d
from skimage import data

from detector.crop import CropConfig, finish, network_input
from detector.spectrum import (RIPPLE_SIGMA, SPECTRAL, axis_spectrum, axis_width, input_spectrum, log_spectrum,
                               spectral, spectral_tensors, spectrum_width)


def _face(size: int = 224) -> np.ndarray:
    return np.asarray(Image.fromarray(data.astronaut()).resize((size, size)))


def test_log_spectrum_sees_blur_in_the_high_frequencies():
    face = _face()
    blurred = np.asarray(Image.fromarray(face).filter(ImageFilter.GaussianBlur(2)))
    s = log_spectrum([face, blurred], CropConfig(jpeg_quality=None))
    assert s.shape == (2, spectrum_width(CropConfig())) == (2, 111) and s.dtype == np.float32
    assert np.isfinite(s).all()
    assert s[1, 60:].mean() < s[0, 60:].mean() - 1.0  # blur removes high-frequency power
    np.testing.assert_allclose(s[1, :3], s[0, :3], atol=0.5)  # and keeps the lowest frequencies


def _numpy_power(face: np.ndarray, cfg: CropConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Plain numpy reference: the centred power spectrum of the crop after the JPEG finish (what the network sees),
    each frequency's integer ring and its (y, x) offsets from the centre."""
    grey = finish(face, cfg).astype(np.float64).mean(-1)
    power = np.abs(np.fft.fftshift(np.fft.fft2(grey - grey.mean()))) ** 2
    yy, xx = np.indices(power.shape) - cfg.size // 2
    return power, np.hypot(yy, xx).astype(int), yy, xx


def test_log_spectrum_is_the_ring_mean_of_the_finished_crops_power():
    """Against a plain numpy computation on the crop after the JPEG finish (what the network sees)."""
    cfg = CropConfig(size=64)
    face = _face(64)
    power, ring, _, _ = _numpy_power(face, cfg)
    expect = [np.log(power[ring == r].mean() + 1e-6) for r in range(1, 32)]
    np.testing.assert_allclose(log_spectrum([face], cfg)[0], expect, rtol=1e-4)
    assert log_spectrum([], cfg).shape == (0, 31)


def test_input_spectrum_is_differentiable_and_matches():
    cfg = CropConfig(size=64)
    x = network_input([_face(64)], cfg).requires_grad_(True)
    s = input_spectrum(x, cfg)
    (grad,) = torch.autograd.grad(s[0, -10:].sum(), x)  # the high frequencies depend on the pixels
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    np.testing.assert_allclose(s.detach().float().numpy(), log_spectrum([_face(64)], cfg), rtol=1e-6)


def test_axis_profile_is_on_axis_over_ring_power_of_the_finished_crop():
    """Against a plain numpy computation: per ring from radius 2, log mean power within 1 px of the frequency axes
    minus the ring's log mean power; differentiable like the ring average."""
    cfg = CropConfig(size=64)
    face = _face(64)
    power, ring, yy, xx = _numpy_power(face, cfg)
    axis = (np.abs(yy) <= 1) | (np.abs(xx) <= 1)
    expect = [np.log(power[(ring == r) & axis].mean() + 1e-6) - np.log(power[ring == r].mean() + 1e-6)
              for r in range(2, 32)]
    got = spectral([face], cfg, "axis")
    assert got.shape == (1, axis_width(cfg)) == (1, 30)
    np.testing.assert_allclose(got[0], expect, rtol=1e-4, atol=1e-5)
    x = network_input([face], cfg).requires_grad_(True)
    (grad,) = torch.autograd.grad(axis_spectrum(x, cfg)[0, -10:].sum(), x)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert spectral([], cfg, "axis").shape == (0, 30)


def test_a_grid_pattern_shows_on_the_axes_not_in_the_ring_average():
    """A periodic row/column pattern (what an up-sampling layer leaves) raises the axis profile at its frequency."""
    cfg = CropConfig(size=64, jpeg_quality=None)
    face = _face(64).astype(np.float64)
    grid = face.copy()
    grid[::4] += 6.0  # every 4th row and column brightened: power on the axes at radius 16
    grid[:, ::4] += 6.0
    a, b = spectral([face.astype(np.uint8), np.clip(grid, 0, 255).astype(np.uint8)], cfg, "axis")
    assert np.argmax(b - a) == 16 - 2 and b[16 - 2] - a[16 - 2] > 0.2
    assert np.abs(np.delete(b - a, 16 - 2)).max() < 0.05


def test_ripple_is_the_log_spectrum_minus_its_smoothed_curve():
    """Against scipy on the log spectrum itself; differentiable through the network input like the other blocks."""
    cfg = CropConfig(size=64)
    face = _face(64)
    s = log_spectrum([face], cfg).astype(np.float64)
    expect = s - gaussian_filter1d(s, RIPPLE_SIGMA, axis=1, mode="reflect")
    got = spectral([face], cfg, "ripple")
    assert got.shape == (1, spectrum_width(cfg)) == (1, 31)
    np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-4)
    x = network_input([face], cfg).requires_grad_(True)
    (grad,) = torch.autograd.grad(spectral_tensors(x, cfg, ("ripple",))[0][0, -10:].sum(), x)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert spectral([], cfg, "ripple").shape == (0, 31)


def test_ripple_ignores_a_contrast_change_that_moves_the_whole_spectrum():
    """Doubling the contrast multiplies every ring's power by 4: the log spectrum moves by log 4 at every ring, the
    ripple does not move (a smooth gain - here a constant one - cancels). A narrow peak in the profile stays."""
    cfg = CropConfig(size=64, jpeg_quality=None)
    noise = np.random.default_rng(0).normal(0, 20, (64, 64, 1)).repeat(3, axis=2)
    lo, hi = (np.clip(np.rint(128 + k * noise), 0, 255).astype(np.uint8) for k in (1.0, 2.0))
    s = log_spectrum([lo, hi], cfg)
    np.testing.assert_allclose(s[1] - s[0], np.log(4.0), atol=0.1)
    r = spectral([lo, hi], cfg, "ripple")
    assert np.abs(r[1] - r[0]).max() < 0.1 < np.abs(s[1] - s[0]).min()
    bump = torch.zeros(1, 32, dtype=torch.float64)
    bump[0, 11] = 1.0  # one ring of the (ring 0 first) profile: ripple column 10
    ripple = SPECTRAL["ripple"][0](bump, bump)[0].numpy()
    assert np.argmax(ripple) == 10 and ripple[10] > 0.85
