"""The re-synthesis classifier's logit as a one-sided score (resynth.py's `clf` without a mixture).

The logit has a direction by construction - higher is more like the decoder's output - but a mixture on it flags
both tails, so a photo source sharper than every fit source (ciplab, JPEG q95) is flagged for being *too* unlike
the decoder. Here a face is flagged when its logit is above the 95% point of the reference faces' logits (every fit
and calibration face, each scored by the classifier trained without its photo source, as in resynth.py).
Leave-one-source-out: the threshold from every other source's reference logits, the left-out source's unseen faces
(calibration + held-out, evaluation prep) scored by the classifier trained without it.

    python docs/experiments/2026-12-02-resynthesis/onesided.py --ae-seeds 0 1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import resynth as R

from train import protocol
from train.metrics import detection_metrics, mean_metrics
from train.stages import load_for_eval, network_features, stage_cache


def main(ae_seeds: list[int], control: bool, cols: slice, epochs: int = 6) -> None:
    run = R.RUN
    sets = stage_cache(run)
    det, wkey = load_for_eval(R.artifact(0))
    base = network_features(run, det, wkey, ("spectrum", "axis"))
    for seed in ([0] if control else ae_seeds):
        ae = None if control else R.pretext_decoder(sets, epochs, seed)
        tag = "clf-" + ("down2" if control else f"e{epochs}" + (f"-ae{seed}" if seed else ""))
        logit = R.logit_features(base, R.classifiers(base, det, [(ae, tag)], sets, cols, tag), cols, sets)

        def score(faces: dict, logit=logit) -> dict[str, np.ndarray]:  # lower = flagged, like a log-likelihood
            return {k: -v[:, 0].astype(np.float64) for k, v in logit(faces, "none").items()}

        ref = {}
        for split in (*run.data.gmm_from, *run.data.calibrate_on):
            for k, v in score(sets.split(split)).items():
                ref.setdefault(k, []).append(v)
        ref = {k: np.concatenate(v) for k, v in ref.items()}
        thr = np.quantile(np.concatenate(list(ref.values())), run.gmm.far)
        real = score(sets.split("heldout", evaluation=True))
        all_real = np.concatenate(list(real.values()))
        per = {g: detection_metrics(all_real, s, thr) for g, s in score(sets.fake).items()}
        loso = {}
        for s in sets.real_eval:
            t = np.quantile(np.concatenate([v for k, v in ref.items() if k != s]), run.gmm.far)
            unseen = [score(sets.split(sp, evaluation=True)).get(s) for sp in protocol.unseen_splits(run)]
            z = np.concatenate([u for u in unseen if u is not None])
            loso[s] = {"far": 100 * float(np.mean(z < t)), "n": len(z)}
        worst = max(loso, key=lambda k: loso[k]["far"])
        res = {"per_generator": per, "mean": mean_metrics(per), "worst": protocol.worst_generator(per),
               "heldout_far_all": 100 * float(np.mean(all_real < thr)), "loso_far": loso,
               "loso_far_worst": {"source": worst, **loso[worst]}}
        # Is the logit a sharpness axis? Sharpness: the log power of the crop's rings 40-63 (the top of what a
        # 128 px face holds once enlarged to 224) minus rings 4-15, from the shipped spectrum block.
        def sharp(faces: dict) -> dict[str, np.ndarray]:
            z = base(faces, "none")
            return {k: z[k][:, 768 + 39:768 + 63].mean(1) - z[k][:, 768 + 3:768 + 15].mean(1) for k in faces}

        sh = {**sharp(sets.split("heldout", evaluation=True)), **sharp(sets.fake)}
        lg = {**real, **score(sets.fake)}
        rho = spearmanr(np.concatenate([-lg[k] for k in sh]), np.concatenate([sh[k] for k in sh])).statistic
        print(f"   Spearman(logit, sharpness) over held-out reals and fakes: {rho:.2f}; median logit / sharpness: "
              + ", ".join(f"{k} {np.median(-lg[k]):.1f} / {np.median(sh[k]):.2f}" for k in sh if "@" not in k))
        name = f"onesided-{tag}" + ("-spec" if cols.start else "")
        print(f"{name}: {protocol.summary(res, native_only=True)}\n   mean share flagged {res['mean']['tpr']:.1f}",
              flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--ae-seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--control", action="store_true")
    ap.add_argument("--spec", action="store_true", help="the classifier on the two spectral blocks only")
    a = ap.parse_args()
    main(a.ae_seeds, a.control, slice(768, None) if a.spec else slice(0, None))
