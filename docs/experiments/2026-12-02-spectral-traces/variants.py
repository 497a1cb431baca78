"""Which spectral features carry StyleGAN traces that the radial log spectrum misses?

StyleGAN3 is the weakest generator of the protocol (AUC 50-53 with the shipped product of experts), and the
hidden evaluation holds several StyleGAN-family sets. The shipped spectrum expert averages power over whole rings,
which washes out anything directional (peaks on the axes from up-sampling, a grid's diagonal peaks) and ignores
colour. Candidates, each computed from the network's own input (after the JPEG finish), like detector.spectrum:

- `radial`  the shipped expert's features: log mean power per ring, grey (111);
- `axis`    per ring from 2, log power within 1 px of the kx = 0 / ky = 0 axes minus the ring's log mean power (110);
- `chroma`  radial log power of the Cb and Cr channels (2 x 111);
- `grid`    the 2-D log power spectrum, folded into one quadrant (it is symmetric) and averaged over 7 x 7 cells
            (16 x 16 = 256).

Screening: each candidate alone (one mixture, PCA-D whitened, K=8, threshold by source) and as a third expert next
to the shipped two (`+name`: the shipped product with the candidate's mixture added, log-likelihoods summed), under
the full validation protocol with leave-one-source-out.

    python docs/experiments/2026-12-02-spectral-traces/variants.py axis chroma grid +axis +chroma +grid
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-01-spectrum-fusion"))

from fusion import RUN, artifact, report

from detector.anomaly import GMMConfig
from detector.crop import network_input
from train import protocol
from train.embed import cached_features
from train.stages import load_for_eval, network_features, stage_cache

N = RUN.crop.size
YY, XX = np.indices((N, N)) - N // 2
RING = np.hypot(YY, XX).astype(np.int64)
INSIDE = (RING >= 1) & (RING < N // 2)
AXIS = INSIDE & ((np.abs(YY) <= 1) | (np.abs(XX) <= 1))
COUNT = np.bincount(RING[INSIDE], minlength=N // 2)[1:].astype(np.float64)
COUNT_AX = np.bincount(RING[AXIS], minlength=N // 2)[1:].astype(np.float64)


def channels(crops: list[np.ndarray]) -> np.ndarray:
    """(B, 3, H, W) float64 Y, Cb, Cr (0-255) of what the network sees (after the JPEG finish)."""
    x = network_input(crops, RUN.crop).double().numpy()
    mean, std = np.array(RUN.crop.mean)[None, :, None, None], np.array(RUN.crop.std)[None, :, None, None]
    r, g, b = (255.0 * (x * std + mean)).transpose(1, 0, 2, 3)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return np.stack([y, 0.564 * (b - y), 0.713 * (r - y)], 1)


def power(img: np.ndarray) -> np.ndarray:
    img = img - img.mean(axis=(-2, -1), keepdims=True)
    return np.abs(np.fft.fftshift(np.fft.fft2(img), axes=(-2, -1))) ** 2


def radial(p: np.ndarray, mask: np.ndarray = INSIDE, count: np.ndarray = COUNT) -> np.ndarray:
    rings = np.stack([np.bincount(RING[mask], weights=q[mask], minlength=N // 2)[1:] for q in p])
    return np.log(rings / np.maximum(count, 1) + 1e-6)


def feature(name: str, crops: list[np.ndarray]) -> np.ndarray:
    c = channels(crops)
    if name == "radial":
        return radial(power(c[:, 0])).astype(np.float32)
    if name == "axis":
        p = power(c[:, 0])
        return (radial(p, AXIS, COUNT_AX) - radial(p))[:, 1:].astype(np.float32)  # ring 1 lies all on the axes
    if name == "chroma":
        return np.concatenate([radial(power(c[:, 1])), radial(power(c[:, 2]))], 1).astype(np.float32)
    if name == "grid":
        lp = np.log(power(c[:, 0]) + 1e-6)[:, 1:, 1:]  # drop the unpaired Nyquist row/column: 223 x 223, centre 111
        q = (lp[:, 111:, 111:] + lp[:, 111::-1, 111::-1] + lp[:, 111:, 111::-1] + lp[:, 111::-1, 111:]) / 4
        q = q[:, :112, :112].reshape(len(q), 16, 7, 16, 7).mean((2, 4))
        return q.reshape(len(q), -1).astype(np.float32)
    raise ValueError(name)


def featurizer(name: str):
    def feats(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        return {k: cached_features(lambda c: feature(name, c), fs.crops, RUN.run_dir / "embeddings",
                                   f"exp-{name}-v2-{fs.id}", degrade, RUN.augment) for k, fs in faces.items()}
    return feats


@dataclass(frozen=True)
class Blocks(GMMConfig):
    """A product of experts over named blocks (name -> PCA dim; the embedding's from pca_dim)."""

    blocks: tuple[tuple[str, int | None], ...] = ()

    def experts(self) -> dict[str, GMMConfig]:
        one = GMMConfig(**{k: v for k, v in self.to_dict().items() if k != "blocks"})
        one = replace(one, spectrum_dim=None)
        return {k: replace(one, pca_dim=d) for k, d in self.blocks}


def concat(*fs):
    def feats(faces, degrade):
        parts = [f(faces, degrade) for f in fs]
        return {k: np.concatenate([p[k] for p in parts], 1) for k in parts[0]}
    return feats


def main(names: list[str], seeds: list[int], dim: int) -> None:
    sets = stage_cache(RUN)
    base = RUN.gmm
    for seed in seeds:
        net = network_features(RUN, *load_for_eval(artifact(seed)), ("spectrum",))
        for name in names:
            cand = name.lstrip("+")
            f = featurizer(cand)
            width = f({"x": sets.fake[next(iter(sets.fake))].subset(np.arange(1))}, "none")["x"].shape[1]
            d = min(dim, width)
            if name.startswith("+"):
                feats = concat(net, f)
                blocks = (("embedding", base.pca_dim), ("spectrum", base.spectrum_dim), (cand, d))
                widths = {"embedding": 768, "spectrum": 111, cand: width}
            else:
                feats, blocks, widths = f, ((cand, d),), {cand: width}
            cfg = Blocks(**{**base.to_dict(), "spectrum_dim": 1}, blocks=blocks)  # spectrum_dim set: a product
            t = time.time()
            data = protocol.density_data(RUN, sets, feats, base.calib_folds, RUN.augment.copies, widths)
            res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), loso=(data, cfg))["none"]
            report(f"traces-{name}{d}", seed, res, time.time() - t)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("names", nargs="+")
    a = ap.parse_args()
    main(a.names, a.seeds, a.dim)
