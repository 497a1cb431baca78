"""Natural-image wavelet statistics (Lyu & Farid) as a fourth expert: do the higher-order statistics of a crop's
wavelet coefficients, and of their errors under a linear predictor, see StyleGAN3 where the random network and the
spectra do not?

Lyu & Farid ("How realistic is photorealistic?", IEEE TSP 2005) separate photographs from computer-generated images
with the first four moments of each wavelet sub-band and of the log error of predicting each coefficient's magnitude
from its spatial, cross-orientation and parent-scale neighbours - statistics of *photographs*, not of any generator.
Unlike the radially averaged spectra (second-order: power only) they measure how coefficients co-vary across scales
and orientations, which an alias-free up-sampler (StyleGAN3) need not reproduce.

Here: the crop as the network sees it (the model's one JPEG q90 finish), luminance, area-averaged to 112 px (every
face's detail is capped at 128 px), three Haar levels x three orientations; per sub-band the mean, variance,
skewness and kurtosis of the coefficient magnitudes |c|, and the same four moments of log2 |c| - log2 |prediction|,
the prediction a per-image least-squares fit on the neighbours' magnitudes (four spatial, the two other
orientations, the parent: 7 as in Lyu & Farid; 6 at the coarsest level). 9 sub-bands x 8 = 72 numbers per face.
Luminance only: every crop passes JPEG 4:2:0, so chroma detail is gone for real and fake alike.

    python docs/experiments/2026-12-07-wavelet-statistics/wavelet.py screen          # each number vs each source
    python docs/experiments/2026-12-07-wavelet-statistics/wavelet.py alone 16        # the expert alone, protocol
    python docs/experiments/2026-12-07-wavelet-statistics/wavelet.py protocol 16     # shipped three x wavelets
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

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
OUT = ROOT / "runs" / "wavelet-statistics"
SIZE, LEVELS = 112, 3
ORIENT = ("H", "V", "D")
NAMES = [f"{kind}{m}_{o}{lv}" for lv in range(1, LEVELS + 1) for o in ORIENT for kind in ("c", "e")
         for m in ("mean", "var", "skew", "kurt")]


def luminance(crop: np.ndarray) -> np.ndarray:
    """The finished crop's luminance, area-averaged from 224 to SIZE px (integer factor 2)."""
    x = finish(np.asarray(crop), RUN.crop).astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    f = x.shape[0] // SIZE
    return x[:SIZE * f, :SIZE * f].reshape(SIZE, f, SIZE, f).mean((1, 3))


def haar(x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One orthonormal 2-D Haar step: the low-pass image and the H, V, D detail bands (half size each)."""
    a, b, c, d = x[0::2, 0::2], x[0::2, 1::2], x[1::2, 0::2], x[1::2, 1::2]
    return (a + b + c + d) / 2, {"H": (a + b - c - d) / 2, "V": (a - b + c - d) / 2, "D": (a - b - c + d) / 2}


def moments(v: np.ndarray) -> list[float]:
    m, s = v.mean(), v.std() + 1e-12
    z = (v - m) / s
    return [float(m), float(s ** 2), float((z ** 3).mean()), float((z ** 4).mean())]


def shift(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    return np.roll(np.roll(a, dy, 0), dx, 1)


def wavelet_features(crops: list[np.ndarray]) -> np.ndarray:
    """(N, 72): per sub-band the moments of the coefficients' magnitudes and of their log prediction errors."""
    out = []
    for crop in crops:
        x, bands = luminance(crop), []
        for _ in range(LEVELS):
            x, b = haar(x)
            bands.append(b)
        row = []
        for lv, b in enumerate(bands):
            parent = bands[lv + 1] if lv + 1 < LEVELS else None
            for o in ORIENT:
                c = np.abs(b[o])
                nb = [shift(c, 1, 0), shift(c, -1, 0), shift(c, 0, 1), shift(c, 0, -1)]
                nb += [np.abs(b[p]) for p in ORIENT if p != o]
                if parent is not None:  # the parent band, up-sampled by repetition to this band's size
                    nb.append(np.kron(np.abs(parent[o]), np.ones((2, 2))))
                A = np.stack([n.ravel() for n in nb] + [np.ones(c.size)], 1)
                w, *_ = np.linalg.lstsq(A, c.ravel(), rcond=None)
                err = np.log2(c.ravel() + 1e-3) - np.log2(np.abs(A @ w) + 1e-3)
                row += moments(c.ravel()) + moments(err)
        out.append(row)
    return np.asarray(out, np.float32)


def featurize(faces: dict, degrade: str) -> dict[str, np.ndarray]:
    """A Featurize (train.protocol) of the wavelet numbers alone, cached per face set and degradation."""
    return {k: cached_features(wavelet_features, fs.crops, OUT / "features", f"wavelet-{fs.id}", degrade,
                               RUN.augment) for k, fs in faces.items()}


@dataclass(frozen=True)
class WaveletGMM(GMMConfig):
    """The shipped settings plus a fourth expert on the wavelet numbers (experiment only)."""

    wavelet_dim: int | None = None

    def experts(self) -> dict[str, GMMConfig]:
        base = super().experts()
        if self.wavelet_dim:
            base["wavelet"] = replace(base["embedding"], pca_dim=self.wavelet_dim)
        return base


def cmd_screen() -> None:
    """Each number alone, no density: AUC with the generator as the HIGHER value, per generator (native, and
    StyleGAN3 at half size) against each held-out real source; the numbers that best separate StyleGAN3 from the
    sources it is hardest against (ffhq128, ciplab) in either direction are printed in full. A number that only
    separates a generator from some sources is a source statistic."""
    sets = stage_cache(RUN)
    real = featurize(sets.split("heldout", evaluation=True), "none")
    fake = {g: f for g, f in featurize(sets.fake, "none").items() if "@" not in g or g == "stylegan3@0.5x"}

    def auc(j: int, g: str, k: str) -> float:
        return 100 - detection_metrics(real[k][:, j], fake[g][:, j], 0.0)["auc"]

    # distance from chance of StyleGAN3 against its two hardest sources, the weaker of the two (either direction,
    # provided both agree on it)
    def sg3(j: int) -> float:
        a = [auc(j, "stylegan3", k) - 50 for k in ("ffhq128", "ciplab")]
        return min(abs(v) for v in a) if a[0] * a[1] > 0 else 0.0

    order = sorted(range(len(NAMES)), key=sg3, reverse=True)
    for j in order[:8]:
        print(f"{NAMES[j]} (median of reals: " + " ".join(f"{k} {np.median(v[:, j]):.3g}" for k, v in real.items())
              + ")")
        for g in fake:
            print(f"   {g:15s} " + " ".join(f"{k}={auc(j, g, k):.0f}" for k in real))


def _evaluate(sets, feats, cfg: GMMConfig, widths: dict[str, int] | None = None) -> dict:
    """The full protocol (threshold by source, leave-one-source-out) for one density on `feats`."""
    data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies, widths)
    res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), ("none",), (data, cfg), network_trained=False)
    return res["none"]


def cmd_alone(dims: list[int]) -> None:
    sets = stage_cache(RUN)
    base = load_for_eval(RUN.run_dir / "artifact")[0].anomaly.config
    for dim in dims:
        t = time.time()
        cfg = replace(base, pca_dim=dim, n_components=min(8, dim), spectrum_dim=None, ripple_dim=None, axis_dim=None)
        res = _evaluate(sets, featurize, cfg)
        print(f"wavelet alone PCA-{dim}: {protocol.summary(res, native_only=True)} [{time.time() - t:.0f}s]",
              flush=True)
        (OUT / f"alone-wavelet{dim}.json").write_text(json.dumps(res, indent=1, default=float))


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
        cfg = WaveletGMM(**det.anomaly.config.to_dict(), wavelet_dim=dim)
        widths = {**block_widths(det.model.cfg.embed_dim, RUN.crop, spectral), "wavelet": len(NAMES)}
        res = _evaluate(sets, feats, cfg, widths)
        print(f"shipped x wavelet PCA-{dim}: {protocol.summary(res, native_only=True)} [{time.time() - t:.0f}s]",
              flush=True)
        (OUT / f"protocol-wavelet{dim}.json").write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["screen", "alone", "protocol"])
    ap.add_argument("dims", type=int, nargs="*", default=[16])
    a = ap.parse_args()
    {"screen": cmd_screen, "alone": lambda: cmd_alone(a.dims), "protocol": lambda: cmd_protocol(a.dims)}[a.command]()
