"""Does the re-synthesis logit flag real photos with a cleaner history? The large-faces proxy, applied to `clf`.

resynth.py's `clf` sees generated faces because they are cleaner at the 128 px cap than any real source
(README.md). A real photo larger than any here - the hidden set's 1024 px portraits - reaches the cap through a
bigger shrink, which averages its JPEG away: cleaner too. The proxy of docs/experiments/2026-12-02-large-faces:
each held-out real photo enlarged `s` times (bicubic) before the evaluation's JPEG q90, then the CLI's path (largest
face, crop, features). The faces' logits come from the classifier trained without their source (as in resynth.py),
the 1-D mixture and threshold are resynth.py's `clf` model; the shipped product scores the same features.

    python docs/experiments/2026-12-02-resynthesis/enlarged.py --scales 1 3 --sources ffhq128 ciplab webmorph   # ~20 min
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "2026-12-02-large-faces"))

import resynth as R
from large import largest_crop, photo_files

from detector.imageio import load_image
from train import protocol
from train.cache import ImagePrep
from train.stages import load_for_eval, network_features, stage_cache


def features(det, files: list[Path], scale: float, tag: str) -> np.ndarray:
    """The shipped model's features of the largest face of each photo after the prep (rows of NaN: no face)."""
    path = R.OUT / f"enlarged-{tag}.npy"
    if path.is_file():
        return np.load(path)
    prep, rows = ImagePrep(scale, R.RUN.data.eval_jpeg), []
    for p in files:
        found = largest_crop(det, prep(load_image(p)))
        rows.append(None if found is None else det.features([found[0]])[0])
    width = sum(det.anomaly.widths.values())
    z = np.stack([np.full(width, np.nan, np.float32) if r is None else r for r in rows])
    np.save(path, z)
    return z


def main(scales: list[float], sources: list[str] | None = None) -> None:
    run = R.RUN
    sets = stage_cache(run)
    det, wkey = load_for_eval(R.artifact(0))
    base = network_features(run, det, wkey, ("spectrum", "axis"))
    every = slice(0, None)
    clfs = R.classifiers(base, det, [(R.pretext_decoder(sets, 6, 0), "clf-e6")], sets, every, "clf-e6")
    feats = R.logit_features(base, clfs, every, sets)

    R.Blocks.blocks = {"clf": 1}
    cfg = R.Blocks(**asdict(run.gmm))
    model = protocol.density_data(run, sets, feats, cfg.calib_folds, 0, {"clf": 1}).fit_model(cfg)
    for s in scales:
        flagged, shipped, n = {}, {}, 0
        for k, fs in sets.split("heldout").items():
            if sources and k not in sources:
                continue
            z = features(det, photo_files(fs), s, f"{k}-x{s:g}")
            z = z[~np.isnan(z[:, 0])]
            n += len(z)
            flagged[k] = 100 * float(np.mean(model.score(clfs[k].decision_function(z)[:, None]) < model.threshold()))
            shipped[k] = 100 * float(np.mean(det.anomaly.score(z) < det.anomaly.threshold()))
        print(f"x{s:g} ({n} faces): clf flags " + " ".join(f"{k}={v:.1f}" for k, v in flagged.items())
              + " | shipped product flags " + " ".join(f"{k}={v:.1f}" for k, v in shipped.items()), flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=float, nargs="+", default=[1, 3])
    ap.add_argument("--sources", nargs="*", default=None, help="only these held-out sources (default: all)")
    a = ap.parse_args()
    main(a.scales, a.sources)
