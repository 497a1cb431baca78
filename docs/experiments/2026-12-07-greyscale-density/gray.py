"""A density of greyscale faces for greyscale photos: the shipped product of experts, fitted and calibrated by source
on greyscale copies of the real faces, scoring greyscale held-out faces, left-out sources and generators.

    python docs/experiments/2026-12-07-greyscale-density/gray.py      # ~15 min on 2 cores (features cached after)
    python docs/experiments/2026-12-07-greyscale-density/gray.py --seed 1   # a seed-spread network: its colour
                                                                            # density refitted too (~30 min)

Also prints how the routing test (detector.pipeline.is_greyscale, GREY_TOL) sorts every validation crop: colour
crops as stored, greyscale copies.
Rows: edits.edit_rows (docs/experiments/2026-12-02-photo-edits) -> runs/greyscale-density/summary.json (seed 0; its
colour density's rows are the calibration-copies record's `none`), seed<N>-grey.json and seed<N>-colour.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-photo-edits"))

import edits  # noqa: E402
import variants  # noqa: E402
from detector.pipeline import is_greyscale  # noqa: E402
from detector.product import block_widths, spectral_blocks  # noqa: E402
from train import protocol  # noqa: E402
from train.stages import load_for_eval, stage_cache  # noqa: E402

OUT = ROOT / "runs" / "greyscale-density"


def by_source(z: dict[str, np.ndarray], cfg, widths, leave_out: str | None = None):
    """The shipped by-source calibration (DensityData.fit_model, cfg.calib_by = "source") on `z` without
    `leave_out`."""
    return protocol.DensityData(z, {}, None, widths).fit_model(cfg, leave_out=leave_out)


def routing(sets) -> None:
    """How is_greyscale (the detector's caution test) sorts the validation crops, as stored and as greyscale
    copies."""
    gray = edits.EDITS["gray"]
    groups = {**sets.split("heldout", evaluation=True), **sets.fake}
    for name, fs in groups.items():
        col = [is_greyscale(c, edits.RUN.crop) for c in fs.crops]
        g = [is_greyscale(gray(c), edits.RUN.crop) for c in fs.crops]
        print(f"  routing {name}: {sum(col)}/{len(col)} stored crops greyscale; {sum(g)}/{len(g)} grey copies",
              flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0, help="the random network's seed (0: the shipped network)")
    seed = ap.parse_args().seed
    torch.set_num_threads(2)
    run = edits.RUN
    sets = stage_cache(run)
    det, _ = load_for_eval(ROOT / "assets" / "default")
    cfg = det.anomaly.config  # the shipped settings, for every seed
    blocks = spectral_blocks(det.anomaly.experts)
    widths = block_widths(det.model.cfg.embed_dim, run.crop, blocks)
    net = edits.OUT
    if seed:
        det = variants.network(run, "none", seed)  # the seed spread's network, as shipped (no density of its own)
        net = edits.OUT / "variants" / f"net-none-seed{seed}"
    cache = edits.feature_dir(net, blocks)

    def feats(fs, edit: str) -> np.ndarray:
        return edits.features(lambda c: det._features(c, blocks), fs, edit, cache)

    if not seed:
        routing(sets)
    data = protocol.density_data(run, sets, lambda faces, deg: {k: feats(fs, deg) for k, fs in faces.items()},
                                 cfg.calib_folds, 0, widths)
    splits = [*run.data.gmm_from, *run.data.calibrate_on]
    faces = {s: [sets.split(sp)[s] for sp in splits if s in sets.split(sp)] for s in [*data.fit, *data.calib]}
    tests = protocol.loso_test_faces(run, sets, data, network_trained=False)
    kinds = {"grey": "gray", **({"colour": "none"} if seed else {})}
    for kind, version in kinds.items():
        z = {s: np.concatenate([feats(fs, version) for fs in v]) for s, v in faces.items()}
        t = time.time()
        full = by_source(z, cfg, widths)
        loso = {s: by_source(z, cfg, widths, leave_out=s) for s in tests}
        print(f"seed {seed} {kind} density fitted in {time.time() - t:.0f} s; threshold {full.threshold():.1f}",
              flush=True)
        rows = ["gray"] if kind == "grey" else ["none", "gray"]
        edits.edit_rows(sets, feats, full, loso, tests, rows,
                        OUT / ("summary.json" if not seed else f"seed{seed}-{kind}.json"))


if __name__ == "__main__":
    main()
