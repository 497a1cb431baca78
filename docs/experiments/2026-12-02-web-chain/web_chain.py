"""Unseen photo sources after a web upload chain: are re-compressed, resized real photos flagged when their source
was never in the fit?

The protocol measures the two things apart: leave-one-source-out (LOSO) false alarms on faces as the evaluation
prep leaves them (one JPEG q90 of the whole photo), and robustness to extra processing with every source in the fit
(the card's rows, applied to the crop). Web photos from a new source have both at once. Here each source (the five
face sets and the EXIF photo sources) is left out of the fit and the threshold as in the protocol, and its unseen
faces are scored after each chain of whole-photo processing, then the evaluation's JPEG q90:

    q90        the protocol's prep (reproduces the LOSO row)
    q75        one web JPEG q75 first
    0.5x q75   halved (bicubic, antialiased), then JPEG q75

Fakes (native size) go through the same chains; each generator's AUC is against the held-out split of the five face
sets after the same chain, both scored by the shipped model (the card's robustness rows, done to the whole photo).

    python docs/experiments/2026-12-02-web-chain/web_chain.py     # ~45 min on 2 cores (caches ~8k photos per chain)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from detector.imageio import jpeg_roundtrip
from train.cache import ImagePrep, split_mask
from train.config import load_config
from train.metrics import detection_metrics
from train.protocol import unseen_splits
from train.stages import density_inputs, face_cache, fake_name, load_for_eval, stage_cache


@dataclass(frozen=True)
class WebChain(ImagePrep):
    """Rescale, a web JPEG pass, then the evaluation's JPEG (ImagePrep's `jpeg`)."""

    web_jpeg: int | None = None

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        rgb = ImagePrep(self.scale, self.web_jpeg)(rgb)
        return jpeg_roundtrip(rgb, self.jpeg) if self.jpeg else rgb


CHAINS = {"q90": ImagePrep(jpeg=90),  # the protocol's own prep (and caches)
          "q75": WebChain(jpeg=90, web_jpeg=75),
          "0.5x q75": WebChain(scale=0.5, jpeg=90, web_jpeg=75)}


def chain_sets(run, prep: ImagePrep, exif: bool = True) -> tuple[dict, dict, dict]:
    """After `prep`: ({source: the faces LOSO scores}, {face set: its held-out split}, {generator: fakes}); the
    EXIF photo sources only with `exif` (large photos: slow to cache)."""
    d = run.data
    real, held = {}, {}
    for f in d.real:
        fs = face_cache(run, f, prep)
        masks = split_mask(fs, d.split, d.split_seed)
        keep = np.any([masks[s] for s in unseen_splits(run)], axis=0)
        real[Path(f).name] = fs.subset(np.nonzero(keep)[0])
        held[Path(f).name] = fs.subset(np.nonzero(masks["heldout"])[0])
    for f in d.exif if exif else []:
        real[Path(f).name] = face_cache(run, f, prep, every_face=True)
    fake = {fake_name(g, 1.0): face_cache(run, f, prep) for g, f in d.fake.items()}
    return real, held, fake


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("chains", nargs="*", default=list(CHAINS))
    ap.add_argument("--artifact", default=str(ROOT / "assets/default"))
    a = ap.parse_args()
    run = load_config(ROOT / "train/configs/default.toml")
    sets = stage_cache(run)
    det, wkey = load_for_eval(Path(a.artifact))
    cfg = det.anomaly.config
    feats, data = density_inputs(run, sets, det, wkey, cfg)
    full = data.fit_model(cfg)
    per_chain = {c: chain_sets(run, CHAINS[c]) for c in a.chains}
    z = {c: tuple(feats(x, "none") for x in xs) for c, xs in per_chain.items()}
    flagged = {c: {} for c in a.chains}
    for source in per_chain[a.chains[0]][0]:
        m = data.fit_model(cfg, leave_out=source)
        for c in a.chains:
            s = m.score(z[c][0][source])
            flagged[c][source] = (100 * float(np.mean(s < m.threshold())), len(s))
        print(source, {c: f"{flagged[c][source][0]:.1f}% of {flagged[c][source][1]}" for c in a.chains}, flush=True)
    first = flagged[a.chains[0]]
    print("\n| chain | " + " | ".join(f"{k} ({n})" for k, (_, n) in first.items())
          + " | worst left out | held-out FAR (shipped model) | AUC per generator (mean) |")
    print("|---" * (len(first) + 4) + "|")
    for c in a.chains:
        held = full.score(np.concatenate(list(z[c][1].values())))
        aucs = {g: detection_metrics(held, full.score(v), full.threshold())["auc"] for g, v in z[c][2].items()}
        worst = max(flagged[c], key=lambda k: flagged[c][k][0])
        print(f"| {c} | " + " | ".join(f"{f:.1f}" for f, _ in flagged[c].values())
              + f" | {flagged[c][worst][0]:.1f} ({worst}) | {100 * np.mean(held < full.threshold()):.2f} | "
              + " ".join(f"{g} {v:.1f}" for g, v in aucs.items()) + f" ({np.mean(list(aucs.values())):.1f}) |")


if __name__ == "__main__":
    main()
