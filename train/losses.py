"""Fidelity losses of the pretext tasks (paper Eq. 1-6).

Ranking (per EXIF tag): for every pair (x, y) of a minibatch with both tags known,
    p = 1 if tag(x) > tag(y) else 0,   p_hat = Phi((s_x - s_y) / sqrt(2))   (Thurstone),
    loss = 1 - sqrt(p * p_hat) - sqrt((1 - p) * (1 - p_hat)),
averaged over all M(M-1)/2 pairs i < j. Ties (equal tags): dropped by default ("drop"), or labelled 0.5
("half"), which asks for equal scores. Dropping is the default because the one-camera AMFD photos share few
distinct values, and a flood of 0.5 labels would mostly teach the heads to output constants.

Manipulation: p = 1 if manipulated, p_hat = sigmoid(s), same fidelity loss, averaged over images.
"""

from __future__ import annotations

import torch

_EPS = 1e-12


def _safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    """sqrt with value 0 and gradient 0 at x <= 0 (plain sqrt's gradient is infinite there, giving NaN)."""
    return torch.where(x > 0, torch.sqrt(x.clamp_min(_EPS)), torch.zeros_like(x))


def fidelity(p: torch.Tensor, p_hat: torch.Tensor) -> torch.Tensor:
    """1 - sqrt(p p_hat) - sqrt((1-p)(1-p_hat)), elementwise."""
    return 1.0 - _safe_sqrt(p * p_hat) - _safe_sqrt((1 - p) * (1 - p_hat))


def thurstone_prob(s_x: torch.Tensor, s_y: torch.Tensor) -> torch.Tensor:
    """Phi((s_x - s_y) / sqrt(2)) = 0.5 * (1 + erf((s_x - s_y) / 2))."""
    return 0.5 * (1.0 + torch.erf((s_x - s_y) / 2.0))


def ranking_loss(scores: torch.Tensor, tags: torch.Tensor, ties: str = "drop") -> tuple[torch.Tensor, int]:
    """Mean fidelity loss over all pairs i < j whose tags are both finite. Returns (loss, number of pairs);
    the loss is 0 (with a graph) when there is no pair."""
    ok = torch.isfinite(tags)
    s, t = scores[ok].float(), tags[ok].to(torch.float64)
    m = s.shape[0]
    if m < 2:
        return scores.sum() * 0.0, 0
    i, j = torch.triu_indices(m, m, offset=1, device=s.device)
    p = (t[i] > t[j]).to(s.dtype)
    tie = t[i] == t[j]
    if ties == "drop":
        i, j, p = i[~tie], j[~tie], p[~tie]
    elif ties == "half":
        p = torch.where(tie, torch.full_like(p, 0.5), p)
    else:
        raise ValueError(f"ties must be 'drop' or 'half', got {ties!r}")
    if i.numel() == 0:
        return scores.sum() * 0.0, 0
    return fidelity(p, thurstone_prob(s[i], s[j])).mean(), int(i.numel())


def manipulation_loss(scores: torch.Tensor, manipulated: torch.Tensor) -> torch.Tensor:
    """Mean fidelity loss of sigmoid(scores) against 0/1 labels."""
    return fidelity(manipulated.float(), torch.sigmoid(scores.float())).mean()


def pretext_loss(heads: torch.Tensor, tags: torch.Tensor, manipulated: torch.Tensor,
                 tasks: tuple[str, ...] = ("ranking", "manipulation"), ties: str = "drop") -> tuple[torch.Tensor, dict]:
    """Sum of the four per-tag ranking losses + the manipulation loss (equal weights).

    heads: (M, 5) scores, columns aperture, exposure, focal length, ISO, manipulated; tags: (M, 4) with NaN for
    unknown; manipulated: (M,) 0/1. Only unmanipulated faces form ranking pairs: a manipulated face is no longer
    the photo its camera settings describe.
    """
    logs: dict[str, float] = {}
    total = heads.sum() * 0.0
    if "ranking" in tasks:
        real = manipulated < 0.5
        for k, name in enumerate(("aperture", "exposure", "focal_length", "iso")):
            loss, n = ranking_loss(heads[real, k], tags[real, k], ties)
            total = total + loss
            logs[f"rank_{name}"], logs[f"pairs_{name}"] = float(loss.detach()), n
    if "manipulation" in tasks:
        loss = manipulation_loss(heads[:, 4], manipulated)
        total = total + loss
        logs["manip_loss"] = float(loss.detach())
        logs["manip_acc"] = float(((heads[:, 4].detach() > 0).float() == manipulated).float().mean())
    logs["loss"] = float(total.detach())
    return total, logs

