"""Tone-invariant variants of the shipped model, under the protocol and under edits.py's photo edits.

edits.py found the shipped embedding expert (untrained ResNet-18 on the RGB crop) moves real faces down after
greyscale, contrast, saturation and gamma edits. A variant changes one or both of:

  network input (a fixed, parameter-free filter in front of the same seeded weights):
    none   the shipped RGB input
    tone   per image and channel, (x - mean) / std: brightness, white balance and linear contrast drop out
    luma   the crop's luminance, standardised per image, in all three channels: colour drops out too
  spectrum block:
    raw    the shipped log mean power per ring
    scn    the same minus the log of the crop's mean power inside the Nyquist circle (= the spectrum of the grey
           crop scaled to unit RMS): a contrast change is a uniform shift of the raw profile and drops out

Everything else is the recipe shipped at the time: the same three experts and settings (edits.RECORD_GMM), fit on
pretext + calib, threshold by source, the protocol's leave-one-source-out (LOSO) mixtures, and edits.py's rows (the
edit applied to the cached crop before the model's own JPEG q90; threshold unchanged).

    python docs/experiments/2026-12-02-photo-edits/variants.py none:raw luma:raw none:scn luma:scn tone:raw
    python docs/experiments/2026-12-02-photo-edits/variants.py --seed 1 none:raw luma:scn

~20-30 min a variant on 2 cores (features of ~12k faces per edit row set, 9 by-source fits + 8 left-out fits).
Results: runs/photo-edits/variants/seed<S>-<input>-<spectrum>/summary.json; one line per variant is printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

import edits  # noqa: E402
from detector import model as dmodel  # noqa: E402
from detector.crop import CLIP_MEAN, CLIP_STD  # noqa: E402
from detector.pipeline import Detector  # noqa: E402
from detector.product import block_widths  # noqa: E402
from detector.spectrum import _rings  # noqa: E402
from train import protocol  # noqa: E402
from train.pretext import load_weights, random_init_weights  # noqa: E402
from train.stages import stage_cache  # noqa: E402

EDIT_ROWS = ["none", "gray", "sat1.5", "contrast1.3", "gamma1.4", "sharpen", "noise4"]


class ToneNorm(nn.Module):
    """(x - mean) / std per image and channel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean(dim=(2, 3), keepdim=True)
        return (x - m) / x.std(dim=(2, 3), keepdim=True).add(1e-6)


class LumaNorm(nn.Module):
    """Rec. 601 luminance of the de-normalised crop, standardised per image, repeated in the three channels."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("w", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = ((x * self.std + self.mean) * self.w).sum(dim=1, keepdim=True)
        y = (y - y.mean(dim=(2, 3), keepdim=True)) / y.std(dim=(2, 3), keepdim=True).add(1e-6)
        return y.expand(-1, 3, -1, -1)


FILTERS = {"tone": ToneNorm, "luma": LumaNorm}
dmodel._FILTERS.update(FILTERS)  # experiment only: registered for this process, not in the library
dmodel._CHANNELS.update({k: 3 for k in FILTERS})
SPECTRA = ("raw", "scn")
BLOCKS = ("spectrum", "axis")


def scale_normalise(z: np.ndarray, widths: dict[str, int], crop_size: int) -> np.ndarray:
    """The 'scn' spectrum: each face's spectrum columns minus the log of its mean power over rings 1..N/2-1
    (weighted by ring size, i.e. the in-circle power of the mean-free grey crop)."""
    counts = _rings(crop_size)[2][1 : 1 + widths["spectrum"]]
    a = widths["embedding"]
    s = z[:, a : a + widths["spectrum"]].astype(np.float64)
    level = np.log(np.exp(s) @ counts / counts.sum())
    out = z.copy()
    out[:, a : a + widths["spectrum"]] = (s - level[:, None]).astype(z.dtype)
    return out


def network(run, input_filter: str, seed: int) -> Detector:
    """The seeded untrained network behind `input_filter`, as shipped (fp16-rounded weights)."""
    cfg = replace(run.pretext, input_filter=input_filter, seed=seed, epochs=0)
    weights = random_init_weights(replace(cfg, input_filter="none"),
                                  edits.OUT / "variants" / f"weights-seed{seed}")  # the filter has no weights
    return Detector(load_weights(weights, cfg, as_shipped=True), None, run.crop, run.data.backend)


def feature_cache(input_filter: str, seed: int) -> Path:
    """edits.features' folder for this network and BLOCKS (the seed-0 RGB network shares edits.py's root)."""
    shipped = (input_filter, seed) == ("none", 0)
    net = edits.OUT if shipped else edits.OUT / "variants" / f"net-{input_filter}-seed{seed}"
    return edits.feature_dir(net, BLOCKS)


def variant(run, sets, input_filter: str, spectrum: str, seed: int) -> dict:
    t0 = time.time()
    det = network(run, input_filter, seed)
    widths = block_widths(det.model.cfg.embed_dim, run.crop, BLOCKS)
    # features of the network + both spectral blocks, cached per network; the 'scn' transform is applied on load
    cache = feature_cache(input_filter, seed)
    fn: Callable = lambda c: det._features(c, BLOCKS)  # noqa: E731
    post = (lambda z: scale_normalise(z, widths, run.crop.size)) if spectrum == "scn" else (lambda z: z)

    def feats(fs, edit: str) -> np.ndarray:
        return post(edits.features(fn, fs, edit, cache))

    data = protocol.density_data(run, sets, lambda faces, deg: {k: feats(fs, deg) for k, fs in faces.items()},
                                 run.gmm.calib_folds, 0, widths)
    t = time.time()
    model = data.fit_model(edits.RECORD_GMM)
    tests = protocol.loso_test_faces(run, sets, data, network_trained=False)
    loso = {s: data.fit_model(edits.RECORD_GMM, leave_out=s) for s in tests}
    print(f"== seed {seed} input {input_filter} spectrum {spectrum}: {1 + len(loso)} mixtures in {time.time() - t:.0f} s",
          flush=True)
    out = edits.OUT / "variants" / f"seed{seed}-{input_filter}-{spectrum}"
    rows = edits.edit_rows(sets, feats, model, loso, tests, EDIT_ROWS, out / "summary.json")
    print(f"== done in {time.time() - t0:.0f} s", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variants", nargs="+", help="input:spectrum, input in none/tone/luma, spectrum in raw/scn")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    pairs = [tuple(v.split(":")) for v in args.variants]
    bad = [v for v, p in zip(args.variants, pairs) if len(p) != 2 or p[0] not in ("none", *FILTERS) or p[1] not in SPECTRA]
    if bad:
        sys.exit(f"unknown variant(s) {bad}")
    torch.set_num_threads(2)
    run = edits.RUN
    sets = stage_cache(run)
    for input_filter, spectrum in pairs:
        variant(run, sets, input_filter, spectrum, args.seed)


if __name__ == "__main__":
    main()
