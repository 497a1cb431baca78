"""Signal-dependent noise as a fourth expert: does the crop's noise level function (how the fine residual's variance
grows with brightness) see StyleGAN3 where the three shipped experts do not?

Why: a camera's noise is heteroscedastic - shot noise makes the variance of the fine residual grow with the signal
(Poisson-Gaussian, sigma^2(I) = a I + b; Foi et al. 2008) - whereas a generator draws its fine texture from what it
learned, with no reason to tie it to brightness. The shipped spectra see how much fine detail a crop has, not where.
This is a statistic of photographs; the generators only choose and report.

On the crop as the network sees it (the model's JPEG q90 finish), luminance area-averaged from 224 to 112 px (every
face's detail is capped at 128 px): the residual of a 3x3 median, the local mean of a 7x7 box; per brightness band
(BANDS) the log of the residual's robust variance (1.4826 MAD, squared) - missing bands get the crop's overall value -
then the slope and intercept of that log variance against the log band brightness, the overall log variance, the
residual's kurtosis and Immerkaer's (1996) flat-region noise estimate (log). NAMES lists them.

    python docs/experiments/2026-12-08-noise-level/noise.py screen          # each number vs each source
    python docs/experiments/2026-12-08-noise-level/noise.py protocol 4 8    # shipped three x noise PCA-D
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.ndimage import convolve, median_filter, uniform_filter

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from detector.anomaly import GMMConfig  # noqa: E402
from detector.crop import finish  # noqa: E402
from detector.product import block_widths, spectral_blocks  # noqa: E402
from train import protocol  # noqa: E402
from train.config import load_config  # noqa: E402
from train.embed import cached_features  # noqa: E402
from train.metrics import detection_metrics  # noqa: E402
from train.stages import load_for_eval, network_features, stage_cache  # noqa: E402

RUN = load_config(ROOT / "train/configs/default.toml")
OUT = ROOT / "runs" / "noise-level"
SIZE = 112
BANDS = (0, 50, 90, 130, 170, 210, 256)
NAMES = [f"logvar_{a}_{b}" for a, b in zip(BANDS[:-1], BANDS[1:])] + [
    "nlf_slope", "nlf_intercept", "logvar_all", "kurtosis", "immerkaer"]
LAPLACE = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)


def luminance(crop: np.ndarray) -> np.ndarray:
    """The finished crop's luminance, 0-255, area-averaged from 224 to SIZE px (integer factor 2)."""
    x = finish(np.asarray(crop), RUN.crop).astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    f = x.shape[0] // SIZE
    return x[:SIZE * f, :SIZE * f].reshape(SIZE, f, SIZE, f).mean((1, 3))


def robust_logvar(r: np.ndarray) -> float:
    mad = 1.4826 * np.median(np.abs(r - np.median(r)))
    return float(np.log(mad ** 2 + 1e-3))


def noise_features(crops: list[np.ndarray]) -> np.ndarray:
    """(N, len(NAMES)) noise-level numbers per crop."""
    out = []
    for crop in crops:
        x = luminance(crop)
        r = (x - median_filter(x, size=3, mode="reflect"))[3:-3, 3:-3]
        m = uniform_filter(x, size=7, mode="reflect")[3:-3, 3:-3]
        overall = robust_logvar(r)
        lv, pairs = [], []  # per band; (log brightness, log variance) of the bands with enough pixels
        for a, b in zip(BANDS[:-1], BANDS[1:]):
            sel = (m >= a) & (m < b)
            v = robust_logvar(r[sel]) if sel.sum() >= 64 else overall
            lv.append(v)
            if sel.sum() >= 64:
                pairs.append((np.log(m[sel].mean() + 1.0), v))
        slope, intercept = np.polyfit(*zip(*pairs), 1) if len(pairs) >= 2 else (0.0, overall)
        z = (r - r.mean()) / (r.std() + 1e-9)
        h, w = x.shape
        imm = np.sqrt(np.pi / 2) / (6 * (w - 2) * (h - 2)) * np.abs(convolve(x, LAPLACE)[1:-1, 1:-1]).sum()
        out.append(lv + [slope, intercept, overall, float((z ** 4).mean()), float(np.log(imm + 1e-3))])
    return np.nan_to_num(np.asarray(out, np.float32))


def featurize(faces: dict, degrade: str) -> dict[str, np.ndarray]:
    """A Featurize (train.protocol) of the noise numbers alone, cached per face set and degradation."""
    return {k: cached_features(noise_features, fs.crops, OUT / "features", f"noise-v1-{fs.id}", degrade,
                               RUN.augment) for k, fs in faces.items()}


@dataclass(frozen=True)
class NoiseGMM(GMMConfig):
    """The shipped settings plus a fourth expert on the noise numbers (experiment only)."""

    noise_dim: int | None = None

    def experts(self) -> dict[str, GMMConfig]:
        base = super().experts()
        if self.noise_dim:
            base["noise"] = replace(base["embedding"], pca_dim=self.noise_dim)
        return base


def cmd_screen() -> None:
    """Each number alone, no density: AUC with the generator as the HIGHER value, per generator against each
    held-out real source and each EXIF photo source (every face)."""
    sets = stage_cache(RUN)
    real = {**featurize(sets.split("heldout", evaluation=True), "none"), **featurize(sets.exif_eval, "none")}
    fake = {g: f for g, f in featurize(sets.fake, "none").items() if "@" not in g or g == "stylegan3@0.5x"}

    def auc(j: int, g: str, k: str) -> float:
        return 100 - detection_metrics(real[k][:, j], fake[g][:, j], 0.0)["auc"]

    for j, name in enumerate(NAMES):
        print(f"{name} (median of reals: " + " ".join(f"{k} {np.median(v[:, j]):.3g}" for k, v in real.items())
              + "; fakes: " + " ".join(f"{g} {np.median(v[:, j]):.3g}" for g, v in fake.items()) + ")")
        for g in fake:
            print(f"   {g:15s} " + " ".join(f"{k}={auc(j, g, k):.0f}" for k in real))


def cmd_protocol(dims: list[int]) -> None:
    sets = stage_cache(RUN)
    det, wkey = load_for_eval(RUN.run_dir / "artifact")
    spectral = spectral_blocks(det.anomaly.config.experts())
    shipped = network_features(RUN, det, wkey, spectral)

    def feats(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        a, b = shipped(faces, degrade), featurize(faces, degrade)
        return {k: np.concatenate([a[k], b[k]], axis=1) for k in a}

    for dim in dims:
        t = time.time()
        cfg = NoiseGMM(**det.anomaly.config.to_dict(), noise_dim=dim)
        widths = {**block_widths(det.model.cfg.embed_dim, RUN.crop, spectral), "noise": len(NAMES)}
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies, widths)
        res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), ("none",), (data, cfg),
                                network_trained=False)["none"]
        print(f"shipped x noise PCA-{dim}: {protocol.summary(res, native_only=True)} "
              f"tone-matched {res['tone_matched']['mean']:.1f} [{time.time() - t:.0f}s]", flush=True)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"protocol-noise{dim}.json").write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["screen", "protocol"])
    ap.add_argument("dims", type=int, nargs="*", default=[4])
    a = ap.parse_args()
    {"screen": cmd_screen, "protocol": lambda: cmd_protocol(a.dims)}[a.command]()
