"""The photo-edits record's failing edits (sharpening, local contrast, greyscale, contrast) applied to the whole
photo, as a phone or photo app applies them, instead of to the 224 px face crop.

docs/experiments/2026-12-02-photo-edits applied each edit to the cached crop: after the face was cut out, rendered
at most 128 px (the detail cap) and resized to 224. An app sharpens the photo at its own resolution, before anyone
finds or crops the face; the crop's downscale to 128 px then filters part of what a sharpening filter adds near the
photo's Nyquist frequency. Here the edit is applied to every photo first, then the evaluation's JPEG q90, face
finding and the model's crop (new caches), and each real source is left out of the fit and the threshold exactly as
in the protocol. Fakes get the same edit; each generator's AUC is against the held-out split after the same edit.

    python docs/experiments/2026-12-06-photo-scale-edits/photo_edits.py sharpen sharpen_k clahe   # ~8 min an edit
    python docs/experiments/2026-12-06-photo-scale-edits/photo_edits.py --exif gray                # + EXIF sources
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-photo-edits"))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-web-chain"))

from edits import EDITS  # noqa: E402
from train.cache import ImagePrep  # noqa: E402
from train.config import load_config  # noqa: E402
from train.metrics import detection_metrics  # noqa: E402
from train.stages import density_inputs, load_for_eval, stage_cache  # noqa: E402
from web_chain import chain_sets  # noqa: E402

OUT = ROOT / "runs" / "photo-scale-edits"


@dataclass(frozen=True)
class EditPrep(ImagePrep):
    """One of the photo-edits record's edits on the whole photo, then the evaluation prep (ImagePrep's JPEG)."""

    edit: str = "none"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        fn = EDITS[self.edit]
        return ImagePrep.__call__(self, rgb if fn is None else np.ascontiguousarray(fn(rgb)))


def edited_sets(run, edit: str, exif: bool) -> tuple[dict, dict, dict]:
    """After `edit` on the whole photo: web_chain.chain_sets' ({source: the faces LOSO scores}, {face set: held-out
    split}, {generator: native-size fakes}). `none` is the protocol's own evaluation caches."""
    prep = ImagePrep(jpeg=run.data.eval_jpeg) if edit == "none" else EditPrep(jpeg=run.data.eval_jpeg, edit=edit)
    return chain_sets(run, prep, exif)


def edit_row(run, edit: str, exif: bool, feats, model, loso: dict) -> dict:
    """One edit's row: each source's faces flagged by the model fitted without it (`loso[source]`), the held-out
    false alarms and each generator's AUC against the edited held-out split (`model`); `feats({name: faces})` ->
    {name: features}."""
    real, held, fake = edited_sets(run, edit, exif)
    z_real = feats(real)
    lo = {s: 100 * float(np.mean(loso[s].score(z) < loso[s].threshold())) for s, z in z_real.items()}
    h = model.score(np.concatenate(list(feats(held).values())))
    auc = {g: detection_metrics(h, model.score(v), model.threshold())["auc"] for g, v in feats(fake).items()}
    worst = max(lo, key=lo.get)
    return {"loso": lo, "n": {s: len(z) for s, z in z_real.items()}, "loso_worst": [worst, lo[worst]],
            "heldout_far": 100 * float(np.mean(h < model.threshold())), "auc": auc,
            "mean_auc": float(np.mean(list(auc.values())))}


def row_line(edit: str, r: dict) -> str:
    """`edit_row`'s row as the README table's line: held-out FAR | left-out per source | worst | mean AUC | AUCs."""
    worst, w = r["loso_worst"]
    return (f"| {edit} | {r['heldout_far']:.1f} | " + " / ".join(f"{v:.1f}" for v in r["loso"].values())
            + f" | {w:.1f} ({worst}) | {r['mean_auc']:.1f} | " + " ".join(f"{g} {v:.1f}" for g, v in r["auc"].items())
            + " |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("edits", nargs="*", default=["sharpen", "sharpen_k", "clahe", "gray", "contrast1.3"])
    ap.add_argument("--exif", action="store_true", help="also the EXIF photo sources (large photos: slow)")
    ap.add_argument("--artifact", default=str(ROOT / "assets/default"))
    a = ap.parse_args()
    unknown = [e for e in a.edits if e not in EDITS]
    if unknown:
        sys.exit(f"unknown edit(s) {unknown}; choose from {list(EDITS)}")
    edits = a.edits if "none" in a.edits else ["none", *a.edits]
    torch.set_num_threads(2)
    run = load_config(ROOT / "train/configs/default.toml")
    sets = stage_cache(run)
    det, wkey = load_for_eval(Path(a.artifact))
    cfg = det.anomaly.config
    feats, data = density_inputs(run, sets, det, wkey, cfg)
    full = data.fit_model(cfg)
    summary = OUT / "summary.json"
    rows = json.loads(summary.read_text()) if summary.is_file() else {}
    sources = [Path(f).name for f in [*run.data.real, *(run.data.exif if a.exif else [])]]
    loso = {s: data.fit_model(cfg, leave_out=s) for s in sources}
    for edit in edits:
        t = time.time()
        rows[edit] = r = edit_row(run, edit, a.exif, lambda x: feats(x, "none"), full, loso)
        print(row_line(edit, r) + f" [{time.time() - t:.0f} s; sources " + " / ".join(r["loso"])
              + "; faces " + " / ".join(str(n) for n in r["n"].values()) + "]", flush=True)
        OUT.mkdir(parents=True, exist_ok=True)
        summary.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
