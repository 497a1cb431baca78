import math

import numpy as np
import pytest
import torch

from train.losses import fidelity, manipulation_loss, pretext_loss, ranking_loss


def phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def hand_ranking(scores, tags, ties="drop"):
    losses = []
    for i in range(len(scores)):
        for j in range(i + 1, len(scores)):
            if not (np.isfinite(tags[i]) and np.isfinite(tags[j])):
                continue
            if tags[i] == tags[j]:
                if ties == "drop":
                    continue
                p = 0.5
            else:
                p = 1.0 if tags[i] > tags[j] else 0.0
            ph = phi((scores[i] - scores[j]) / math.sqrt(2))
            losses.append(1 - math.sqrt(p * ph) - math.sqrt((1 - p) * (1 - ph)))
    return float(np.mean(losses)), len(losses)


@pytest.mark.parametrize("ties", ["drop", "half"])
def test_ranking_loss_matches_hand_computation(ties):
    rng = np.random.default_rng(0)
    s = rng.normal(size=9)
    t = np.array([2.8, 4.0, np.nan, 2.8, 1.8, 5.6, 4.0, np.nan, 8.0])
    loss, n = ranking_loss(torch.tensor(s), torch.tensor(t), ties)
    want, n_want = hand_ranking(s, t, ties)
    assert n == n_want == (19 if ties == "drop" else 21)  # 7 known tags: 21 pairs, 2 of them ties
    assert float(loss) == pytest.approx(want, abs=2e-6)


def test_two_image_case_by_hand():
    # s_x - s_y = 1, tag(x) > tag(y): p = 1, p_hat = Phi(1/sqrt 2) = 0.76025; loss = 1 - sqrt(0.76025)
    loss, n = ranking_loss(torch.tensor([1.0, 0.0]), torch.tensor([400.0, 100.0]))
    assert n == 1 and float(loss) == pytest.approx(1 - math.sqrt(0.7602499), abs=1e-6)


def test_no_pairs_and_gradients_are_finite():
    s = torch.tensor([3.0, -3.0, 0.5], requires_grad=True)
    loss, n = ranking_loss(s, torch.tensor([np.nan, 1.0, np.nan]))
    assert n == 0 and float(loss.detach()) == 0.0
    loss, _ = ranking_loss(s, torch.tensor([2.0, 1.0, 1.5]))
    loss.backward()
    assert torch.isfinite(s.grad).all()


def test_fidelity_limits_and_manipulation_loss():
    assert float(fidelity(torch.tensor(1.0), torch.tensor(1.0))) == pytest.approx(0, abs=1e-5)
    assert float(fidelity(torch.tensor(1.0), torch.tensor(0.0))) == pytest.approx(1, abs=1e-5)
    assert float(fidelity(torch.tensor(0.5), torch.tensor(0.5))) == pytest.approx(0, abs=1e-6)
    s = torch.tensor([2.0, -1.0])
    want = np.mean([1 - math.sqrt(1 / (1 + math.exp(-2.0))), 1 - math.sqrt(1 - 1 / (1 + math.exp(1.0)))])
    assert float(manipulation_loss(s, torch.tensor([1.0, 0.0]))) == pytest.approx(want, abs=1e-6)


def test_pretext_loss_sums_tasks_and_ranks_only_originals():
    rng = np.random.default_rng(1)
    heads = torch.tensor(rng.normal(size=(6, 5)), dtype=torch.float32)
    tags = torch.tensor(rng.uniform(1, 10, size=(6, 4)), dtype=torch.float32)
    manip = torch.tensor([0, 1, 0, 1, 0, 0], dtype=torch.float32)
    total, logs = pretext_loss(heads, tags, manip)
    real = manip == 0
    parts = [ranking_loss(heads[real, k], tags[real, k])[0] for k in range(4)]
    want = sum(float(p) for p in parts) + float(manipulation_loss(heads[:, 4], manip))
    assert float(total) == pytest.approx(want, rel=1e-6)
    assert logs["pairs_iso"] == 6  # 4 originals -> 6 pairs
    r_only, logs_r = pretext_loss(heads, tags, manip, tasks=("ranking",))
    assert "manip_loss" not in logs_r and float(r_only) == pytest.approx(sum(float(p) for p in parts), rel=1e-6)
