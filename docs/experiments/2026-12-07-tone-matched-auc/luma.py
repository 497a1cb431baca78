"""The tone-blind input again, now that the protocol reports a tone-matched AUC: was its mean-AUC loss only the look?

The photo-edits record (docs/experiments/2026-12-02-photo-edits, "Tone-invariant inputs") rejected a luminance-only,
per-image standardised network input (`luma`) at 71.1 mean AUC against 79.0, on the recipe of the time (log spectrum
+ axis). Here the same `luma` filter in front of the same seeded weights replaces only the embedding expert's input
of today's recipe (embedding PCA-128 x ripple PCA-64 x axis PCA-32, threshold by source); the ripple and axis
columns are the shipped ones (computed from the crop, not from the network). The full protocol, tone-matched AUC
included, one seed per call.

    python docs/experiments/2026-12-07-tone-matched-auc/luma.py --seed 0                # ~15 min on 2 cores
    python docs/experiments/2026-12-07-tone-matched-auc/luma.py --seed 1 --input none   # the RGB control, seed 1

`--input none --seed 0` is the shipped model refitted in this harness (it must reprint the card's numbers).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-photo-edits"))

import variants  # noqa: E402  (registers the experiment-only `luma` filter)
from detector.product import block_widths, spectral_blocks  # noqa: E402
from train import protocol  # noqa: E402
from train.config import load_config  # noqa: E402
from train.embed import cached_features  # noqa: E402
from train.stages import load_for_eval, network_features, stage_cache  # noqa: E402

RUN = load_config(ROOT / "train/configs/default.toml")
OUT = ROOT / "runs" / "tone-matched-auc"


def main(seed: int, input_filter: str) -> None:
    torch.set_num_threads(2)
    sets = stage_cache(RUN)
    shipped, wkey = load_for_eval(ROOT / "assets" / "default")
    cfg = shipped.anomaly.config
    spectral = spectral_blocks(cfg.experts())
    widths = block_widths(shipped.model.cfg.embed_dim, RUN.crop, spectral)
    base = network_features(RUN, shipped, wkey, spectral)  # the shipped columns: embedding | ripple | axis
    net = variants.network(RUN, input_filter, seed)
    name = f"{input_filter}{seed}"

    def feats(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        b = base(faces, degrade)
        if (input_filter, seed) == ("none", 0):
            return b
        e = {k: cached_features(lambda c: net._features(c, ()), fs.crops, OUT / "features", f"{name}-{fs.id}",
                                degrade, RUN.augment) for k, fs in faces.items()}
        return {k: np.concatenate([e[k], b[k][:, widths["embedding"]:]], axis=1) for k in b}

    t = time.time()
    data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, 0, widths)
    res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), ("none",), (data, cfg), network_trained=False)
    r = res["none"]
    tm = r["tone_matched"]
    print(f"{input_filter} seed {seed}: {protocol.summary(r, native_only=True)}\n   tone-matched mean {tm['mean']:.1f}: "
          + " ".join(f"{g}={a:.1f}" for g, a in tm["per_generator"].items() if "@" not in g)
          + f"\n   held-out FAR least / most contrasty tenth {tm['far_low_contrast']:.1f} / "
          f"{tm['far_high_contrast']:.1f} [{time.time() - t:.0f}s]", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{input_filter}-seed{seed}.json").write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--input", choices=["luma", "tone", "none"], default="luma")
    a = ap.parse_args()
    main(a.seed, a.input)
