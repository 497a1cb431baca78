"""Detection metrics in the paper's layout. Fake = positive class, scored by -log-likelihood."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import NearestNeighbors

LUMA = np.array([0.299, 0.587, 0.114])
TONE_NEIGHBOURS = 5  # real faces per generated face in tone_matched_auc (1 or 20: AUCs within ~3 points)


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


def tone_stats(crops: Iterable[np.ndarray]) -> np.ndarray:
    """(N, 2) per RGB crop: its mean luminance and the luminance standard deviation of its central half (the inner
    face, i.e. its contrast), both on a 0-1 scale. Generated faces differ from photographs in both (the validation's
    text-to-image faces are darker and more contrasty), a look a score can follow without any generation trace."""
    out = []
    for crop in crops:
        y = (np.asarray(crop, np.float64) / 255.0) @ LUMA
        h, w = y.shape
        out.append([y.mean(), y[h // 4: h - h // 4, w // 4: w - w // 4].std()])
    return np.asarray(out).reshape(-1, 2)


def tone_matches(real_tone: np.ndarray, fake_tone: np.ndarray, k: int = TONE_NEIGHBOURS) -> np.ndarray:
    """(N_fake, k) indices of each generated face's k nearest real faces in tone_stats, standardised by the reals'
    spread (with replacement: a real face can match several generated ones)."""
    real_tone, fake_tone = np.asarray(real_tone, float), np.asarray(fake_tone, float)
    mu, sd = real_tone.mean(0), real_tone.std(0) + 1e-12
    nn = NearestNeighbors(n_neighbors=min(k, len(real_tone))).fit((real_tone - mu) / sd)
    return nn.kneighbors((fake_tone - mu) / sd, return_distance=False)


def tone_matched_auc(real_scores: np.ndarray, real_tone: np.ndarray, fake_scores: np.ndarray,
                     fake_tone: np.ndarray, k: int = TONE_NEIGHBOURS) -> float:
    """AUC (%), fakes positive, of the generated faces against tone-matched real faces: each generated face paired
    with its k nearest real faces (tone_matches). What is left is what the score sees besides brightness and face
    contrast."""
    real = np.asarray(real_scores, float)[tone_matches(real_tone, fake_tone, k).ravel()]
    fake = np.asarray(fake_scores, float)
    y = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    return 100 * float(roc_auc_score(y, -np.r_[real, fake]))


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
