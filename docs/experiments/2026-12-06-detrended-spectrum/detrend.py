"""Does a spectrum expert that a sharpening filter cannot move keep the generators apart?

The photo-edits record (docs/experiments/2026-12-02-photo-edits) found the shipped spectrum expert - the crop's
radially averaged log power spectrum s(r), rings 1-111 - behind most false alarms on sharpened faces: an unsharp
mask or a 3x3 sharpening kernel multiplies the spectrum by a gain that is smooth in r, i.e. adds a smooth curve to
s(r). Up-sampling traces are narrow: peaks and notches at fixed rings. Each variant replaces s(r) by what is left
after removing a smooth curve fitted to each face's own profile, so any smooth gain (sharpening, blur, contrast)
cancels:

- `ship`      s(r) as shipped (control: the shipped recipe refitted on this machine);
- `none`      no spectrum expert (embedding and axis experts only; the price of dropping it);
- `polyD`     s minus its least-squares polynomial of degree D in log r;
- `smoothS`   s minus s smoothed along r by a Gaussian of S rings (reflected at the ends);
- `NAME:DIM`  the variant on its first DIM whitened principal components (default: every non-degenerate one).

The embedding and axis experts are the shipped ones (same settings), fitted once per left-out source and shared by
every variant: a product's score is the sum of its experts' scores and its threshold comes from the summed
out-of-source reference scores (detector/product.py), so fitting the experts one by one is the same model as
ProductModel.fit. Each variant: the protocol (mean and worst AUC over the 14 generator rows, held-out false alarms,
every source left out) and the photo-edits record's edits on the crop (edits.py's rows; the threshold unchanged).

    python docs/experiments/2026-12-06-detrended-spectrum/detrend.py ship none poly1 poly3 ship:64 smooth4:64 smooth8:64
    python docs/experiments/2026-12-06-detrended-spectrum/detrend.py smooth4 smooth8 smooth2    # ~8 min + ~4 a variant
    python docs/experiments/2026-12-06-detrended-spectrum/detrend.py ship smooth4 --edits none \
        --photo-edits none sharpen sharpen_k clahe      # the whole-photo edits (face caches: ~8 min an edit)
    python docs/experiments/2026-12-06-detrended-spectrum/detrend.py --seed 1 ship smooth4:64 \
        --edits none sharpen sharpen_k clahe            # the seed spread's network 1 (~35 min)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-photo-edits"))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-06-photo-scale-edits"))

from edits import RECORD_GMM, RUN, edit_rows, features  # noqa: E402
from variants import BLOCKS, feature_cache, network  # noqa: E402
from photo_edits import edit_row, row_line  # noqa: E402
from detector.anomaly import AnomalyModel  # noqa: E402
from detector.product import ProductModel  # noqa: E402
from train import protocol  # noqa: E402
from train.stages import density_inputs, load_for_eval, stage_cache  # noqa: E402
from train.embed import model_key  # noqa: E402

OUT = ROOT / "runs" / "detrended-spectrum"
EMB, SPEC, AXIS = 768, 111, 110  # the shipped feature columns: embedding, spectrum (rings 1-111), axis
LOG_R = np.log(np.arange(1, SPEC + 1, dtype=np.float64))


def transform(name: str):
    """(N, 111) log ring powers -> (N, w) features of variant `name`, and the number of non-degenerate directions."""
    if name == "ship":
        return (lambda s: s), SPEC
    if name.startswith("poly"):
        d = int(name[4:])
        v = np.vander(LOG_R, d + 1)
        proj = np.eye(SPEC) - v @ np.linalg.pinv(v)  # residual of the least-squares fit, one matrix for all faces
        return (lambda s: s @ proj.T), SPEC - (d + 1)
    if name.startswith("smooth"):
        sigma = float(name[6:])
        # reflected smoothing keeps a constant, so a constant offset (overall gain) is the one direction removed
        return (lambda s: s - gaussian_filter1d(s, sigma, axis=1, mode="reflect")), SPEC - 1
    raise ValueError(name)


def photo_rows(feats, model, loso: dict, edits: list[str]) -> None:
    """The photo-scale-edits record's rows (the edit on the whole photo before face finding; face sets left out,
    native generators against the edited held-out split) for one variant; `feats(faces dict)` -> its features."""
    for edit in edits:
        print("photo " + row_line(edit, edit_row(RUN, edit, False, feats, model, loso)), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("variants", nargs="+")
    ap.add_argument("--edits", nargs="*", default=["none", "sharpen", "sharpen_k", "clahe", "noise4", "median3"])
    ap.add_argument("--photo-edits", nargs="*", default=[],
                    help="also these edits on the whole photo (docs/experiments/2026-12-06-photo-scale-edits)")
    ap.add_argument("--seed", type=int, default=0,
                    help="the random network's seed (0: the shipped network; others: the seed spread's networks)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    sets = stage_cache(RUN)
    det, wkey = load_for_eval(ROOT / "assets" / "default")  # its network: the seed-0 one, unchanged by the ripple ship
    cfg = RECORD_GMM  # the expert settings of the model this record compared against (log spectrum + axis), every seed
    if a.seed != 0:
        det = network(RUN, "none", a.seed)
        wkey = model_key(det.model)
    crop_feats, crop_cache = (lambda c: det._features(c, BLOCKS)), feature_cache("none", a.seed)
    ecfg = cfg.experts()
    net, data = density_inputs(RUN, sets, det, wkey, cfg)
    tests = protocol.loso_test_faces(RUN, sets, data, network_trained=False)
    cols = {"embedding": slice(0, EMB), "spectrum": slice(EMB, EMB + SPEC), "axis": slice(EMB + SPEC, None)}
    pools = {lo: data.by_source(lo) for lo in [None, *tests]}  # reference faces and their source fold, per left-out

    def fit(z: np.ndarray, folds: np.ndarray, bcfg) -> AnomalyModel:
        return AnomalyModel.fit(z[:0], bcfg, calibration=z, calibration_folds=folds)

    t = time.time()
    shared = {lo: {b: fit(z[:, cols[b]], f, ecfg[b]) for b in ("embedding", "axis")} for lo, (z, f) in pools.items()}
    print(f"embedding + axis experts fitted for {len(pools)} pools in {time.time() - t:.0f} s", flush=True)
    for v in a.variants:
        t = time.time()
        name, _, dim = v.partition(":")
        if name == "none":
            fn, widths = None, {"embedding": EMB, "axis": AXIS}
        else:
            fn, rank = transform(name)
            d = min(int(dim) if dim else rank, rank)
            scfg = replace(ecfg["spectrum"], pca_dim=d)
            widths = {"embedding": EMB, "spectrum": SPEC, "axis": AXIS}

        def feats_of(z: np.ndarray) -> np.ndarray:
            return z if fn is None else np.concatenate([z[:, cols["embedding"]], fn(z[:, cols["spectrum"]].astype(
                np.float64)).astype(np.float32), z[:, cols["axis"]]], 1)

        def product(lo: str | None) -> ProductModel:
            experts = {"embedding": shared[lo]["embedding"]}
            if fn is not None:
                z, f = pools[lo]
                experts["spectrum"] = fit(feats_of(z)[:, cols["spectrum"]], f, scfg)
            experts["axis"] = shared[lo]["axis"]
            ref = np.sum([m.calibration_scores for m in experts.values()], axis=0)
            return ProductModel(experts, widths, ref, cfg.far, cfg)

        model = product(None)
        loso = {s: product(s) for s in tests}
        keep = np.r_[0:EMB, EMB + SPEC:EMB + SPEC + AXIS] if fn is None else slice(None)
        print(f"== {v} seed {a.seed} (fitted in {time.time() - t:.0f} s)", flush=True)
        edit_rows(sets, lambda fs, edit: feats_of(features(crop_feats, fs, edit, crop_cache))[:, keep],
                  model, loso, tests, a.edits, OUT / (f"{v}.json" if a.seed == 0 else f"{v}-seed{a.seed}.json"))
        photo_rows(lambda faces: {k: feats_of(z)[:, keep] for k, z in net(faces, "none").items()}, model, loso,
                   a.photo_edits)


if __name__ == "__main__":
    main()
