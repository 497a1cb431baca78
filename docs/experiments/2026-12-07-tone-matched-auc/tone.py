"""How much of the shipped model's AUC is the generated faces' look - darker, more contrasty faces - rather than a
generation trace?

Three prints, all on the default run's cache (held-out real faces and every generator, evaluation prep) and the
shipped model (assets/default), nothing fitted:
  screen   each simple tone number of the crop the network sees, alone, as a detector: AUC per generator (native
           size) against each held-out real source, the generator taken as the HIGHER value
  matched  the shipped model's AUC per generator against all held-out reals and against tone-matched reals
           (train.metrics.tone_matched_auc) for k = 1, 5, 20 neighbours, with the matching's balance (the generator's
           mean tone minus its matched reals', in units of the reals' SD) on brightness and face contrast
  deciles  held-out false alarms per tenth of each tone number

    python docs/experiments/2026-12-07-tone-matched-auc/tone.py screen matched deciles     # ~3 min, 2 cores
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from detector.crop import finish  # noqa: E402
from detector.product import spectral_blocks  # noqa: E402
from train.config import load_config  # noqa: E402
from train.metrics import LUMA, detection_metrics, tone_matched_auc, tone_matches, tone_stats  # noqa: E402
from train.stages import load_for_eval, network_features, stage_cache  # noqa: E402

RUN = load_config(ROOT / "train/configs/default.toml")
NAMES = ["brightness", "face contrast", "saturation", "whole-crop contrast", "mean |horizontal gradient|"]


def numbers(crops) -> np.ndarray:
    """(N, 5): tone_stats' two numbers, then the mean saturation ((max - min) / max over RGB), the whole crop's
    luminance SD and its mean absolute horizontal luminance gradient (0-1 scale)."""
    seen = [finish(np.asarray(c), RUN.crop) for c in crops]
    extra = []
    for x in seen:
        x = x.astype(np.float64) / 255
        y, mx, mn = x @ LUMA, x.max(2), x.min(2)
        extra.append([((mx - mn) / (mx + 1e-3)).mean(), y.std(), np.abs(np.diff(y, axis=1)).mean()])
    return np.c_[tone_stats(seen), np.asarray(extra)]


def main(commands: list[str]) -> None:
    sets = stage_cache(RUN)
    real_sets = sets.split("heldout", evaluation=True)
    fake_sets = {g: fs for g, fs in sets.fake.items() if "@" not in g}
    real = {k: numbers(fs.crops) for k, fs in real_sets.items()}
    fake = {g: numbers(fs.crops) for g, fs in fake_sets.items()}
    if "screen" in commands:
        for j, n in enumerate(NAMES):
            print(f"{n}: median of reals " + " ".join(f"{k} {np.median(v[:, j]):.3f}" for k, v in real.items()))
            for g, f in fake.items():  # detection_metrics ranks LOWER scores as fake: pass the numbers negated
                print(f"   {g:14s} median {np.median(f[:, j]):.3f}  AUC vs "
                      + " ".join(f"{k}={detection_metrics(-v[:, j], -f[:, j], 0)['auc']:.0f}" for k, v in real.items()))
    if not {"matched", "deciles"} & set(commands):
        return
    det, wkey = load_for_eval(ROOT / "assets" / "default")
    feats = network_features(RUN, det, wkey, spectral_blocks(det.anomaly.config.experts()))
    rs = np.concatenate([det.anomaly.score(z) for z in feats(real_sets, "none").values()])
    fs = {g: det.anomaly.score(z) for g, z in feats(fake_sets, "none").items()}
    rt = np.concatenate(list(real.values()))
    thr = det.anomaly.threshold()
    if "matched" in commands:
        mu, sd = rt[:, :2].mean(0), rt[:, :2].std(0)
        print("AUC: all held-out reals -> tone-matched (k neighbours); balance: brightness / face contrast gap, in "
              "real SDs, before -> after")
        for g, s in fs.items():
            cells = []
            for k in (1, 5, 20):
                idx = tone_matches(rt[:, :2], fake[g][:, :2], k)
                gap = lambda ref: (fake[g][:, :2].mean(0) - ref.mean(0)) / sd  # noqa: E731
                cells.append(f"k={k} {tone_matched_auc(rs, rt[:, :2], s, fake[g][:, :2], k):.1f} "
                             f"({'/'.join(f'{v:+.2f}' for v in gap(rt[idx.ravel(), :2]))})")
            print(f"   {g:14s} {detection_metrics(rs, s, thr)['auc']:.1f} -> " + "  ".join(cells)
                  + f"  [gap before {'/'.join(f'{v:+.2f}' for v in (fake[g][:, :2].mean(0) - mu) / sd)}]")
    if "deciles" in commands:
        for j, n in enumerate(NAMES):
            q = np.quantile(rt[:, j], np.linspace(0, 1, 11))
            bins = np.clip(np.searchsorted(q, rt[:, j], side="right") - 1, 0, 9)
            print(f"{n}: held-out false alarms (%) per tenth, lowest first: "
                  + " ".join(f"{100 * np.mean(rs[bins == b] < thr):.1f}" for b in range(10)))


if __name__ == "__main__":
    main(sys.argv[1:] or ["screen", "matched", "deciles"])
