"""Edited copies of the real faces in the THRESHOLD only: the mixture is fitted as shipped, and the 5% point is set
on the out-of-source scores of every fit and calibration face as stored and of one `photo`-family copy of it.

    python docs/experiments/2026-12-07-calibration-copies/calib.py      # ~45 min on 2 cores (features cached after)

Both variants (`none`: the shipped threshold rule; `photo`: with copies) share every mixture fit - by source, and
nested inside each leave-one-source-out fit - so they differ in their reference scores alone. Rows are written by
edits.edit_rows (docs/experiments/2026-12-02-photo-edits) to runs/calibration-copies/<variant>/summary.json.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-photo-edits"))

import copies  # noqa: E402
import edits  # noqa: E402
from detector.product import ProductModel, block_widths, spectral_blocks  # noqa: E402
from train import protocol  # noqa: E402
from train.stages import load_for_eval, stage_cache  # noqa: E402

OUT = ROOT / "runs" / "calibration-copies"
EDIT_ROWS = ["none", "gray", "median3", "sharpen_k", "clahe", "sharpen", "contrast1.3"]


def by_source(orig: dict[str, np.ndarray], cop: dict[str, np.ndarray], cfg, widths,
              leave_out: str | None = None) -> dict[str, ProductModel]:
    """The shipped by-source calibration without `leave_out`: each source's faces (and, for `photo`, their copies)
    scored by a product fitted on the other sources' faces; the final product on all faces (never copies)."""
    srcs = [s for s in orig if s != leave_out and len(orig[s])]
    ref_orig, ref_copy = [], []
    for s in srcs:
        m = ProductModel.fit(np.concatenate([orig[o] for o in srcs if o != s]), cfg, widths)
        ref_orig.append(m.score(orig[s]))
        ref_copy.append(m.score(cop[s]))
    final = ProductModel.fit(np.concatenate([orig[s] for s in srcs]), cfg, widths)
    out = {}
    for name, ref in {"none": ref_orig, "photo": ref_orig + ref_copy}.items():
        out[name] = copy.copy(final)
        out[name].reference_scores = np.sort(np.concatenate(ref))
    c = np.concatenate(ref_copy)
    print(f"  {leave_out or 'full'}: threshold none {out['none'].threshold():.1f} photo {out['photo'].threshold():.1f};"
          f" copies below the none threshold {100 * np.mean(c < out['none'].threshold()):.1f}%", flush=True)
    return out


def main() -> None:
    torch.set_num_threads(2)
    run = edits.RUN
    sets = stage_cache(run)
    det, _ = load_for_eval(ROOT / "assets" / "default")
    cfg = det.anomaly.config
    widths = block_widths(det.model.cfg.embed_dim, run.crop, spectral_blocks(cfg.experts()))
    cache = edits.feature_dir(edits.OUT, spectral_blocks(det.anomaly.experts))

    def feats(fs, edit: str) -> np.ndarray:
        return edits.features(det.features, fs, edit, cache)

    data = protocol.density_data(run, sets, lambda faces, deg: {k: feats(fs, deg) for k, fs in faces.items()},
                                 cfg.calib_folds, 0, widths)
    splits = [*run.data.gmm_from, *run.data.calibrate_on]
    faces = {s: [sets.split(sp)[s] for sp in splits if s in sets.split(sp)] for s in [*data.fit, *data.calib]}
    orig = {s: np.concatenate([feats(fs, "none") for fs in v]) for s, v in faces.items()}
    cop = {s: np.concatenate([edits.features(det.features, fs, "copy0-photo", cache, copies.copy_fn("photo", 0))
                              for fs in v]) for s, v in faces.items()}
    tests = protocol.loso_test_faces(run, sets, data, network_trained=False)
    t = time.time()
    full = by_source(orig, cop, cfg, widths)
    loso = {s: by_source(orig, cop, cfg, widths, leave_out=s) for s in tests}
    print(f"fitted in {time.time() - t:.0f} s", flush=True)
    for name in ("none", "photo"):
        print(f"== {name}", flush=True)
        edits.edit_rows(sets, feats, full[name], {s: m[name] for s, m in loso.items()}, tests, EDIT_ROWS,
                        OUT / name / "summary.json")


if __name__ == "__main__":
    main()
