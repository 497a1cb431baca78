"""Coding cost against its own expectation (ZED-style), as a fourth expert: does a real-only predictive model see
generation traces that the random network and the spectra miss (StyleGAN3 is at chance)?

Zero-shot detection (Cozzolino et al., "Zero-Shot Detection of AI-Generated Images", ECCV 2024) trains a lossless
coder's multi-resolution predictor on real images only and flags images whose actual coding cost (negative
log-likelihood, NLL) differs from the entropy the predictor itself expects: generated pixels are more (or less)
predictable than the model of photographs says they should be. Its difference from a fixed high-pass residual (the
rejected "normalised high-pass" input) is that the expectation is learned per pixel, so textured and flat regions
of any photo source are measured against what that region should cost.

Here: a small CNN predicts each pixel of the crop at level L (112 px, then 56 px; the detail of every face is capped
at 128 px) from the next coarser level, as a Laplace distribution per sub-pixel (mean, scale). Trained only on the
face crops of the EXIF photo sources (amfd, camera, photos), so the five face sources the protocol leaves out are new
to it as they are to the mixture (the EXIF sources' own left-out rows are therefore not clean: marked in the record).
Per face and level: mean NLL, mean expected entropy H, mean NLL - H over all sub-pixels and over the flattest and
the busiest quarter (by predicted scale) - 10 numbers, a GMM (PCA-dim whitened, K=8 full) as a fourth expert next
to the shipped three (embedding, ripple, axis); threshold by source; the full protocol.

    python docs/experiments/2026-12-07-coding-cost/coding.py train          # the predictor (~5 min on 2 cores)
    python docs/experiments/2026-12-07-coding-cost/coding.py screen         # each number vs each real source
    python docs/experiments/2026-12-07-coding-cost/coding.py alone 8 4      # the coding expert alone, protocol
    python docs/experiments/2026-12-07-coding-cost/coding.py protocol 8 4   # shipped three x coding PCA-8, -4
    python docs/experiments/2026-12-07-coding-cost/coding.py tails          # is StyleGAN3 in the upper tail?
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

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
OUT = ROOT / "runs" / "coding-cost"
LEVELS = (112, 56)
NAMES = [f"{s}{lv}" for lv in LEVELS for s in ("nll", "ent", "gap", "gap_flat", "gap_busy")]


class Coder(nn.Module):
    """Predicts a level's pixels from the next coarser one: Laplace mean (as a correction to the bilinear
    up-sampling) and log scale per sub-pixel, in 8-bit units."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.GELU(),
                                 nn.Conv2d(width, width, 3, padding=1), nn.GELU(),
                                 nn.Conv2d(width, width, 3, padding=2, dilation=2), nn.GELU(),
                                 nn.Conv2d(width, width, 3, padding=1), nn.GELU(),
                                 nn.Conv2d(width, 6, 3, padding=1))

    def forward(self, coarse: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        up = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
        out = self.net(up / 255.0)
        return up + 16.0 * out[:, :3], out[:, 3:].clamp(-4.0, 6.0)


def pyramid(crops: list[np.ndarray]) -> dict[int, torch.Tensor]:
    """The crops as the network sees them (the one JPEG finish), area-averaged to each level and one below."""
    x = torch.from_numpy(np.stack([finish(np.asarray(c), RUN.crop) for c in crops])).permute(0, 3, 1, 2).float()
    sizes = sorted({*LEVELS, *(s // 2 for s in LEVELS)}, reverse=True)
    return {s: F.adaptive_avg_pool2d(x, s) for s in sizes}


def nll_and_entropy(coder: Coder, pyr: dict[int, torch.Tensor], level: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per sub-pixel Laplace NLL of the level's true values and the predicted distribution's entropy (nats)."""
    mu, logb = coder(pyr[level // 2], level)
    nll = logb + np.log(2.0) + (pyr[level] - mu).abs() / logb.exp()
    return nll, 1.0 + np.log(2.0) + logb


def train_coder(crops: np.ndarray, epochs: int = 6, batch: int = 32, seed: int = 0) -> Coder:
    """Adam on the summed NLL of both levels, random horizontal flips; crops: uint8 (N, 224, 224, 3)."""
    torch.manual_seed(seed)
    coder = Coder()
    opt = torch.optim.AdamW(coder.parameters(), lr=2e-3, weight_decay=1e-4)
    per_epoch = (len(crops) + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=epochs * per_epoch)
    rng = np.random.default_rng(seed)
    for ep in range(epochs):
        t, tot = time.time(), []
        order = rng.permutation(len(crops))
        for i in range(0, len(crops), batch):
            chunk = [np.asarray(crops[j]) for j in order[i:i + batch]]
            chunk = [c[:, ::-1] if rng.random() < 0.5 else c for c in chunk]
            pyr = pyramid([np.ascontiguousarray(c) for c in chunk])
            loss = sum(nll_and_entropy(coder, pyr, lv)[0].mean() for lv in LEVELS)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite loss at epoch {ep}")
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot.append(float(loss.detach()))
        print(f"epoch {ep}: NLL (both levels, nats/sub-pixel) {np.mean(tot):.4f} [{time.time() - t:.0f}s]", flush=True)
    return coder.eval()


@torch.no_grad()
def coding_features(coder: Coder, crops: list[np.ndarray]) -> np.ndarray:
    """(N, 10): per level mean NLL, mean entropy, mean gap (NLL - entropy), and the gap over the flattest and the
    busiest quarter of sub-pixels by predicted scale."""
    pyr = pyramid(crops)
    cols = []
    for lv in LEVELS:
        nll, ent = nll_and_entropy(coder, pyr, lv)
        gap = (nll - ent).flatten(1)
        e = ent.flatten(1)
        lo, hi = e.quantile(0.25, dim=1, keepdim=True), e.quantile(0.75, dim=1, keepdim=True)
        flat = (gap * (e <= lo)).sum(1) / (e <= lo).sum(1).clamp(min=1)
        busy = (gap * (e >= hi)).sum(1) / (e >= hi).sum(1).clamp(min=1)
        cols += [nll.flatten(1).mean(1), e.mean(1), gap.mean(1), flat, busy]
    return torch.stack(cols, 1).numpy().astype(np.float32)


def load_coder() -> Coder:
    coder = Coder()
    coder.load_state_dict(load_file(OUT / "coder.safetensors"))
    return coder.eval()


def coding_featurize(coder: Coder):
    """A Featurize of the coding numbers alone (cached per face set and degradation)."""
    def feats(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        return {k: cached_features(lambda c: coding_features(coder, c), fs.crops, OUT / "features",
                                   f"coding-{fs.id}", degrade, RUN.augment) for k, fs in faces.items()}
    return feats


@dataclass(frozen=True)
class CodingGMM(GMMConfig):
    """The shipped settings plus a fourth expert on the coding numbers (experiment only)."""

    coding_dim: int | None = None

    def experts(self) -> dict[str, GMMConfig]:
        base = super().experts()
        if self.coding_dim:
            base["coding"] = replace(base["embedding"], pca_dim=self.coding_dim)
        return base


def cmd_train() -> None:
    torch.set_num_threads(2)
    sets = stage_cache(RUN)
    crops = np.concatenate([np.asarray(fs.crops) for fs in sets.exif.values()])
    print(f"training on {len(crops)} EXIF-source face crops ({', '.join(sets.exif)})", flush=True)
    coder = train_coder(crops)
    OUT.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in coder.state_dict().items()}, OUT / "coder.safetensors")


def cmd_screen() -> None:
    """Each coding number alone, no density: AUC with the generator as the HIGHER value (above 50: its faces cost
    more than the predictor expects), per generator row (native, and StyleGAN3 at half size) against each
    held-out real source - a number that only separates a generator from some sources is a source statistic."""
    torch.set_num_threads(2)
    sets = stage_cache(RUN)
    feats = coding_featurize(load_coder())
    real = feats(sets.split("heldout", evaluation=True), "none")
    fake = {g: f for g, f in feats(sets.fake, "none").items() if "@" not in g or g == "stylegan3@0.5x"}
    for j, name in enumerate(NAMES):
        print(f"{name} (median of reals: " + " ".join(f"{k} {np.median(v[:, j]):.3f}" for k, v in real.items()) + ")")
        for g, f in fake.items():
            print(f"   {g:15s} " + " ".join(f"{k}={100 - detection_metrics(v[:, j], f[:, j], 0.0)['auc']:.0f}"
                                            for k, v in real.items()))


def cmd_alone(dims: list[int]) -> None:
    """The coding expert alone (PCA-dim, K = min(8, dim)) under the full protocol."""
    torch.set_num_threads(2)
    sets = stage_cache(RUN)
    feats = coding_featurize(load_coder())
    base = load_for_eval(RUN.run_dir / "artifact")[0].anomaly.config
    for dim in dims:
        cfg = replace(base, pca_dim=dim, n_components=min(8, dim), spectrum_dim=None, ripple_dim=None, axis_dim=None)
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies)
        res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), ("none",), (data, cfg),
                                network_trained=False)["none"]
        print(f"coding alone PCA-{dim}: {protocol.summary(res)}", flush=True)
        (OUT / f"alone-coding{dim}.json").write_text(json.dumps(res, indent=1, default=float))


def cmd_tails() -> None:
    """Is StyleGAN3 too typical? Per shipped expert (and their product): the share of each generator's faces above
    the held-out reals' 95th and below their 5th percentile of log-likelihood (a typicality test needs the former)."""
    from detector.product import _columns

    sets = stage_cache(RUN)
    det, wkey = load_for_eval(RUN.run_dir / "artifact")
    model = det.anomaly
    feats = network_features(RUN, det, wkey, spectral_blocks(model.config.experts()))

    def scores(z: np.ndarray) -> dict[str, np.ndarray]:
        cols = _columns(model.widths, z.shape[1])
        return {**{k: m.score(z[:, cols[k]]) for k, m in model.experts.items()}, "product": model.score(z)}

    real = [scores(z) for z in feats(sets.split("heldout", evaluation=True), "none").values()]
    ref = {k: np.concatenate([r[k] for r in real]) for k in real[0]}
    for g, z in feats(sets.fake, "none").items():
        s = scores(z)
        print(f"{g:18s} " + " ".join(f"{k}: >p95 {100 * np.mean(v > np.percentile(ref[k], 95)):.0f}% "
                                     f"<p5 {100 * np.mean(v < np.percentile(ref[k], 5)):.0f}%" for k, v in s.items()))


def cmd_protocol(dims: list[int]) -> None:
    torch.set_num_threads(2)
    sets = stage_cache(RUN)
    det, wkey = load_for_eval(RUN.run_dir / "artifact")
    spectral = spectral_blocks(det.anomaly.config.experts())
    shipped = network_features(RUN, det, wkey, spectral)
    code = coding_featurize(load_coder())

    def feats(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        a, b = shipped(faces, degrade), code(faces, degrade)
        return {k: np.concatenate([a[k], b[k]], axis=1) for k in a}

    for dim in dims:
        t = time.time()
        cfg = CodingGMM(**det.anomaly.config.to_dict(), coding_dim=dim)
        widths = {**block_widths(det.model.cfg.embed_dim, RUN.crop, spectral), "coding": len(NAMES)}
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies, widths)
        res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), ("none",), (data, cfg),
                                network_trained=False)["none"]
        print(f"coding PCA-{dim}: {protocol.summary(res, native_only=True)} [{time.time() - t:.0f}s]", flush=True)
        (OUT / f"protocol-coding{dim}.json").write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["train", "screen", "alone", "tails", "protocol"])
    ap.add_argument("dims", type=int, nargs="*", default=[8])
    a = ap.parse_args()
    {"train": cmd_train, "screen": cmd_screen, "alone": lambda: cmd_alone(a.dims), "tails": cmd_tails,
     "protocol": lambda: cmd_protocol(a.dims)}[a.command]()
