"""Colour statistics of the crop as a fourth expert: do a photograph's colour traces (demosaicing's correlated
channels, clipped highlights, its saturation) see StyleGAN3 where the random network and the spectra do not?

Why: every other expert is luminance-only (the spectra) or a random RGB network. A camera samples colour through a
Bayer mosaic and interpolates it, so a photo's fine detail is strongly correlated across R, G and B, and its
highlights clip; a generator writes RGB directly (McCloskey & Albright 2019, "Detecting GAN-generated imagery using
saturation cues"; Li et al. 2020, colour-component disparities). Those papers fit classifiers on generated images;
here the numbers only enter a density of real faces.

On the crop as the network sees it (the model's JPEG q90 finish), area-averaged from 224 to 112 px (every face's
detail is capped at 128 px), per face (NAMES): HSV saturation mean / std / 95th percentile; share of pixels with a
channel >= 250 and <= 5; at two scales (the residual of a 3x3 and of a 7x7 box blur) the correlations of the
R, G, B residuals and the log energy of the Cb and Cr residuals over the Y residual's.

    python docs/experiments/2026-12-08-colour-statistics/colour.py screen          # each number vs each source
    python docs/experiments/2026-12-08-colour-statistics/colour.py protocol 8      # shipped three x colour PCA-8
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter

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
OUT = ROOT / "runs" / "colour-statistics"
SIZE = 112
SCALES = (3, 7)
NAMES = ["sat_mean", "sat_std", "sat_p95", "clip_hi", "clip_lo"] + [
    f"{n}_{s}" for s in SCALES for n in ("corr_rg", "corr_gb", "corr_rb", "cb_over_y", "cr_over_y")]
YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def small(crop: np.ndarray) -> np.ndarray:
    """The finished crop, float RGB 0-255, area-averaged from 224 to SIZE px (integer factor 2)."""
    x = finish(np.asarray(crop), RUN.crop).astype(np.float64)
    f = x.shape[0] // SIZE
    return x[:SIZE * f, :SIZE * f].reshape(SIZE, f, SIZE, f, 3).mean((1, 3))


def colour_features(crops: list[np.ndarray]) -> np.ndarray:
    """(N, len(NAMES)) colour statistics per crop."""
    out = []
    for crop in crops:
        x = small(crop)
        mx, mn = x.max(2), x.min(2)
        sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-6), 0.0)
        row = [sat.mean(), sat.std(), np.quantile(sat, 0.95), (mx >= 250).mean(), (mn <= 5).mean()]
        for s in SCALES:
            r = x - uniform_filter(x, size=(s, s, 1), mode="reflect")
            r = r[s:-s, s:-s].reshape(-1, 3)
            c = np.corrcoef(r.T)
            ycc = r @ YCC.T
            e = (ycc ** 2).mean(0) + 1e-6
            row += [c[0, 1], c[1, 2], c[0, 2], np.log(e[1] / e[0]), np.log(e[2] / e[0])]
        out.append(row)
    return np.nan_to_num(np.asarray(out, np.float32))


def featurize(faces: dict, degrade: str) -> dict[str, np.ndarray]:
    """A Featurize (train.protocol) of the colour numbers alone, cached per face set and degradation."""
    return {k: cached_features(colour_features, fs.crops, OUT / "features", f"colour-v1-{fs.id}", degrade,
                               RUN.augment) for k, fs in faces.items()}


@dataclass(frozen=True)
class ColourGMM(GMMConfig):
    """The shipped settings plus a fourth expert on the colour numbers (experiment only)."""

    colour_dim: int | None = None

    def experts(self) -> dict[str, GMMConfig]:
        base = super().experts()
        if self.colour_dim:
            base["colour"] = replace(base["embedding"], pca_dim=self.colour_dim)
        return base


def cmd_screen() -> None:
    """Each number alone, no density: AUC with the generator as the HIGHER value, per generator against each
    held-out real source and each EXIF photo source (every face). A number that only separates a generator from
    some sources is a source statistic."""
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


def _evaluate(sets, feats, cfg: GMMConfig, widths: dict[str, int] | None = None) -> dict:
    """The full protocol (threshold by source, leave-one-source-out) for one density on `feats`."""
    data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies, widths)
    res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), ("none",), (data, cfg), network_trained=False)
    return res["none"]


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
        cfg = ColourGMM(**det.anomaly.config.to_dict(), colour_dim=dim)
        widths = {**block_widths(det.model.cfg.embed_dim, RUN.crop, spectral), "colour": len(NAMES)}
        res = _evaluate(sets, feats, cfg, widths)
        print(f"shipped x colour PCA-{dim}: {protocol.summary(res, native_only=True)} [{time.time() - t:.0f}s]",
              flush=True)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"protocol-colour{dim}.json").write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["screen", "protocol"])
    ap.add_argument("dims", type=int, nargs="*", default=[8])
    a = ap.parse_args()
    {"screen": cmd_screen, "protocol": lambda: cmd_protocol(a.dims)}[a.command]()
