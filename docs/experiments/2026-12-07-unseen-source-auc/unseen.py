"""AUC against photo sources the density never saw: does the ranking of the product's parts change?

Every AUC on the card ranks generated faces against held-out faces of the very sources the mixture was fitted on.
The issue's separate evaluation ranks them against real faces of seven *other* sources. The protocol's
leave-one-source-out fits already exist for the false-alarm check; train.protocol.leave_one_source_out now also
scores the generators with each of them, so every generator gets an AUC against each left-out source's faces
(both scored by the density fitted and calibrated without that source), and train.protocol.unseen_source_auc
averages them. This script measures it for the shipped model and for the parts and settings it was chosen over,
all on the shipped seed-0 network's cached features:

- `shipped`:   the artifact itself (embedding PCA-128 K=8 x ripple PCA-64 x axis PCA-32), evaluate_artifact;
- `embedding`: the embedding expert alone (same settings);
- `emb+ripple`, `emb+axis`: the product without one spectral expert;
- `logspec-product`: the model shipped before the ripple (embedding x log spectrum (111 rings) x axis);
- `ripple`, `axis`, `logspec`: one spectral block alone (a K=4 mixture on PCA-64 / 32 / 64, as the card's
  log-spectrum reference row);
- `pca64`: the shipped product with the embedding expert on 64 principal components;
- `K1`, `K4`: the shipped product with 1 or 4 components per expert.

    python docs/experiments/2026-12-07-unseen-source-auc/unseen.py shipped embedding ripple axis logspec   # ~25 min
    python docs/experiments/2026-12-07-unseen-source-auc/unseen.py --table     # the README's tables from runs/

Each variant's protocol result is saved to runs/unseen-source-auc/NAME.json.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from train import protocol  # noqa: E402
from train.config import load_config  # noqa: E402
from train.embed import spectrum_features  # noqa: E402
from train.stages import density_inputs, evaluate_artifact, load_for_eval, stage_cache  # noqa: E402

RUN = load_config(ROOT / "train/configs/default.toml")
OUT = ROOT / "runs" / "unseen-source-auc"
ALONE = {"ripple": 64, "axis": 32, "logspec": 64}  # one spectral block alone: its PCA dimension (K=4)


def variant(name: str, sets, det, wkey) -> dict:
    """The protocol's "none" entry for one variant (leave-one-source-out AUCs included)."""
    shipped = det.anomaly.config
    if name == "shipped":
        return evaluate_artifact(RUN, sets, det, wkey)["none"]
    if name in ALONE:
        block = "spectrum" if name == "logspec" else name
        cfg = replace(shipped.experts()["embedding"], pca_dim=ALONE[name], n_components=4)
        feats = spectrum_features(RUN, block)
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds)
    else:
        cfg = {"embedding": replace(shipped, ripple_dim=None, axis_dim=None),
               "emb+ripple": replace(shipped, axis_dim=None),
               "emb+axis": replace(shipped, ripple_dim=None),
               "logspec-product": replace(shipped, ripple_dim=None, spectrum_dim=111),
               "pca64": replace(shipped, pca_dim=64),
               "K1": replace(shipped, n_components=1),
               "K4": replace(shipped, n_components=4)}[name]
        feats, data = density_inputs(RUN, sets, det, wkey, cfg)
    return protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), loso=(data, cfg), network_trained=False)["none"]


def table() -> None:
    """The README's tables from the saved results."""
    rows = {p.stem: json.loads(p.read_text()) for p in sorted(OUT.glob("*.json"))}
    order = ["shipped", "embedding", "emb+ripple", "emb+axis", "logspec-product", "pca64", "K1", "K4", "ripple", "axis",
             "logspec"]
    rows = {k: rows[k] for k in order if k in rows}
    print("| variant | mean AUC (held-out reals) | mean AUC vs left-out sources | worst generator vs left-out "
          "| worst cell | held-out FAR | worst left-out FAR |")
    print("|---|---|---|---|---|---|---|")
    for k, r in rows.items():
        u, lw = r["loso_auc"], r["loso_far_worst"]
        print(f"| {k} | {r['mean']['auc']:.1f} | {u['mean']:.1f} | {u['worst']['auc']:.1f} ({u['worst']['generator']}) "
              f"| {u['worst_cell']['auc']:.1f} ({u['worst_cell']['generator']} vs {u['worst_cell']['source']}) "
              f"| {r['heldout_far_all']:.1f} | {lw['far']:.1f} ({lw['source']}) |")
    for k, r in rows.items():
        by = r["loso_auc_by_source"]
        gens = [g for g in r["per_generator"] if "@" not in g]
        print(f"\n{k}: AUC per native generator, held-out reals / each left-out source ({', '.join(by)})\n")
        print("| generator | held-out | " + " | ".join(by) + " | mean left-out |")
        print("|---" * (len(by) + 3) + "|")
        for g in gens:
            print(f"| {g} | {r['per_generator'][g]['auc']:.1f} | " + " | ".join(f"{by[s][g]:.1f}" for s in by)
                  + f" | {r['loso_auc']['per_generator'][g]:.1f} |")


def main(names: list[str]) -> None:
    sets = stage_cache(RUN)
    det, wkey = load_for_eval(ROOT / "assets" / "default")
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        t = time.perf_counter()
        res = variant(name, sets, det, wkey)
        (OUT / f"{name}.json").write_text(json.dumps(res, indent=1))
        print(f"== {name} ({time.perf_counter() - t:.0f} s)\n{protocol.summary(res)}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--table"]:
        table()
    else:
        main(sys.argv[1:] or ["shipped", "embedding", "ripple", "axis", "logspec"])
