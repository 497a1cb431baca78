"""Markdown tables of the record from the summaries edits.py, variants.py and copies.py wrote.

    python docs/experiments/2026-12-02-photo-edits/report.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import edits  # noqa: E402


def edit_table(rows: dict) -> list[str]:
    """One row per edit: held-out FAR, worst left-out source, each left-out source, mean / worst AUC."""
    sources = list(dict.fromkeys(s for r in rows.values() for s in r["loso"]))
    L = ["| edit | held-out FAR | left out: " + " / ".join(sources) + " | worst left out | mean AUC | worst AUC |",
         "|---|---|---|---|---|---|"]
    for e, r in rows.items():
        w = r["loso_worst"]
        L.append(f"| {e} | {r['heldout_far']:.1f} | " + " / ".join(f"{r['loso'].get(s, float('nan')):.1f}" for s in sources)
                 + f" | {w[1]:.1f} ({w[0]}) | {r['mean_auc']:.1f} | {r['worst']['auc']:.1f} |")
    return L


def variant_table(runs: dict[str, dict], edit_names: list[str]) -> list[str]:
    """One row per variant: the protocol (no edit) and, per edit, worst left-out source % / held-out FAR %."""
    L = ["| variant | mean AUC | worst AUC | StyleGAN3 | FLUX.1 dev / schnell / pro | SDXL | sd21 | held-out FAR | "
         "worst left out | " + " | ".join(f"{e}: worst left out / held-out" for e in edit_names) + " |",
         "|---" * (9 + len(edit_names)) + "|"]
    for name, rows in runs.items():
        r = rows["none"]
        a = r["auc"]
        cells = [f"{r['mean_auc']:.1f}", f"{r['worst']['auc']:.1f}", f"{a['stylegan3']:.1f}",
                 f"{a['flux1_dev']:.1f} / {a['flux1_schnell']:.1f} / {a['flux1_pro']:.1f}", f"{a['sdxl']:.1f}",
                 f"{a['sd21']:.1f}", f"{r['heldout_far']:.1f}", f"{r['loso_worst'][1]:.1f} ({r['loso_worst'][0]})"]
        cells += [f"{rows[e]['loso_worst'][1]:.1f} / {rows[e]['heldout_far']:.1f}" if e in rows else "-"
                  for e in edit_names]
        L.append(f"| {name} | " + " | ".join(cells) + " |")
    return L


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def main() -> None:
    out = edits.OUT
    print("## The shipped model (edits.py)\n")
    print("\n".join(edit_table(load(out / "summary.json"))))
    for kind in ("variants", "copies"):
        runs = {p.parent.name: load(p) for p in sorted((out / kind).glob("*/summary.json"))}
        if runs:
            names = [e for e in dict.fromkeys(e for r in runs.values() for e in r) if e != "none"]
            print(f"\n## {kind}\n")
            print("\n".join(variant_table(runs, names)))
            for name, rows in runs.items():
                print(f"\n### {kind}: {name}\n")
                print("\n".join(edit_table(rows)))


if __name__ == "__main__":
    main()
