"""Leave-one-source-out false alarms for the three EXIF photo sources (amfd, camera, photos), and the five face sets.

Each source is left out of the fit and the threshold (train.protocol.leave_one_source_out with the network marked
untrained, as the shipped one is), and its unseen faces - for an EXIF source every face, after the evaluation prep
(the whole photo re-encoded as JPEG q90 before detection: `Sets.exif_eval`) - are scored. For the EXIF sources also
the share flagged by the full model, which has them in its fit, and their median score.

    python docs/experiments/2026-12-02-exif-loso/exif_loso.py [--artifact assets/default]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from train.config import load_config
from train.protocol import leave_one_source_out
from train.stages import density_inputs, load_for_eval, stage_cache


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifact", default=str(ROOT / "assets/default"))
    ap.add_argument("--config", default=str(ROOT / "train/configs/default.toml"))
    a = ap.parse_args()
    run = load_config(Path(a.config))
    sets = stage_cache(run)
    det, wkey = load_for_eval(Path(a.artifact))
    cfg = det.anomaly.config
    feats, data = density_inputs(run, sets, det, wkey, cfg)
    full = data.fit_model(cfg)
    print(f"threshold (all sources) {full.threshold():.2f}")
    for source, r in leave_one_source_out(run, sets, feats, data, cfg, network_trained=False).items():
        line = f"{source}: LOSO {r['far']:.1f}% of {r['n']} faces"
        if source in sets.exif_eval:
            s = full.score(feats({source: sets.exif_eval[source]}, "none")[source])
            line += (f"; with it in the fit {100 * np.mean(s < full.threshold()):.1f}%, "
                     f"median score {np.median(s):.1f}")
        print(line, flush=True)


if __name__ == "__main__":
    main()
