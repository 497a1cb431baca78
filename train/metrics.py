"""Detection metrics in the paper's layout. Fake = positive class, scored by -log-likelihood."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def detection_metrics(real_scores: np.ndarray, fake_scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Acc (%) at the threshold (balanced: mean of the accuracy on reals and on fakes, so set sizes do not
    matter), AP (%) and AUC (%) with fakes as positives, plus the false-alarm and detection rates (%)."""
    real, fake = np.asarray(real_scores, float), np.asarray(fake_scores, float)
    y = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    s = -np.r_[real, fake]
    far = float(np.mean(real < threshold))
    tpr = float(np.mean(fake < threshold))
    return {"acc": 100 * 0.5 * ((1 - far) + tpr), "ap": 100 * float(average_precision_score(y, s)),
            "auc": 100 * float(roc_auc_score(y, s)), "far": 100 * far, "tpr": 100 * tpr,
            "n_real": int(len(real)), "n_fake": int(len(fake))}


def mean_metrics(per_gen: dict[str, dict]) -> dict[str, float]:
    keys = ("acc", "ap", "auc", "far", "tpr")
    return {k: float(np.mean([m[k] for m in per_gen.values()])) for k in keys} if per_gen else {}


def markdown_table(rows: dict[str, dict[str, dict]], keys=("acc", "ap", "auc")) -> str:
    """rows: {row label: {generator: metrics}} -> a Markdown table with one Acc/AP/AUC group per generator."""
    gens = list(next(iter(rows.values())).keys()) if rows else []
    head = "| | " + " | ".join(f"{g} {k.upper()}" for g in gens for k in keys) + " |"
    sep = "|---" * (1 + len(gens) * len(keys)) + "|"
    lines = [head, sep]
    for label, per in rows.items():
        lines.append(f"| {label} | " + " | ".join(f"{per[g][k]:.2f}" if g in per else "-" for g in gens for k in keys) + " |")
    return "\n".join(lines)


def source_auc_table(res: dict) -> list[str]:
    """Markdown lines: AUC of each generator against each held-out real source (an evaluate_artifact entry)."""
    sources = list(res["heldout_far"])
    return ["| generator | " + " | ".join(sources) + " |", "|---" * (1 + len(sources)) + "|",
            *[f"| {g} | " + " | ".join(f"{a:.1f}" for a in by.values()) + " |"
              for g, by in res.get("auc_by_real_source", {}).items()]]
