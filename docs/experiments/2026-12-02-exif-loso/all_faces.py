"""The face sets' leave-one-source-out rates on every face of the source, not only the splits nothing was fitted on.

With an untrained network, a mixture fitted without a source has seen none of its faces, the pretext split's
included, so all of them can be scored (after the evaluation prep) - as the protocol now does for the EXIF sources.
The protocol keeps calib + heldout for the face sets (comparable with every recorded decision); this measures
what the doubled sample says (webmorph: 102 faces instead of 53).

    python docs/experiments/2026-12-02-exif-loso/all_faces.py     # ~12 min
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from train.config import load_config
from train.protocol import loso_test_faces
from train.stages import density_inputs, load_for_eval, stage_cache


def main() -> None:
    run = load_config(ROOT / "train/configs/default.toml")
    sets = stage_cache(run)
    det, wkey = load_for_eval(ROOT / "assets/default")
    cfg = det.anomaly.config
    feats, data = density_inputs(run, sets, det, wkey, cfg)
    protocol_faces = loso_test_faces(run, sets, data)

    def se(p: float, n: int) -> float:  # binomial standard error of a rate, in points
        return 100 * float(np.sqrt(p * (1 - p) / n))

    for source, fs in sets.real_eval.items():
        m = data.fit_model(cfg, leave_out=source)
        rates = {}
        for name, faces in (("all faces", [fs]), ("protocol", protocol_faces[source])):
            s = m.score(np.concatenate([feats({source: f}, "none")[source] for f in faces]))
            rates[name] = (float(np.mean(s < m.threshold())), len(s))
        print(f"{source}: " + "; ".join(f"{k} {100 * p:.1f}% of {n} (+-{se(p, n):.1f})" for k, (p, n) in rates.items()),
              flush=True)


if __name__ == "__main__":
    main()
