"""The model card and the README's model paragraph state only numbers read from the run's files."""

import ast
import re
from pathlib import Path

from train.card import README_END, README_START, readme_summary

ROOT = Path(__file__).resolve().parents[2]

# Numbers card.py may type: descriptions of the data sources (image sizes, JPEG qualities, a camera model, a
# licence version, StyleGAN's psi range), the paper's citation and its published setup and figures. Anything
# measured or configured here must come from the run's files instead.
ALLOWED = {
    "128", "200", "250", "256", "512", "470", "768", "75", "90", "95", "340", "60", "4.0", "0.5", "1.0",  # data sources
    "2.1", "3", "4",  # model names: Stable Diffusion 2.1, DALL-E 3, GPT-4o
    "5",  # the fixed high-pass layer's 5x5 kernel (an architecture constant, not a setting)
    "2025", "20", "200,000", "5,000", "50", "10",  # the paper: year, epochs, batch 256, FDF size, test faces, claim
    "86.63", "93.01", "93.43", "76.13", "75.12", "84.12", "85.49", "82.61", "97.45",  # the paper's Tables I-II
    "2", "01", "12", "2026",  # 2-D spectrum; docs/experiments/2026-12-01-... paths
    "0",  # "0" in format specs such as "{x:.0%}" and "q0"-free text
}


def string_literals(path: Path) -> list[str]:
    return [n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)]


def test_card_module_types_no_measured_number():
    found = {m for s in string_literals(ROOT / "train" / "card.py")
             for m in re.findall(r"(?<![\w.{:])\d+(?:[.,]\d+)*", s)}
    assert found <= ALLOWED, f"hand-typed numbers in train/card.py: {sorted(found - ALLOWED)}"


def test_card_literal_check_would_catch_a_typed_rate(tmp_path):
    bad = tmp_path / "card.py"
    bad.write_text('L = ["trains at 11 img/s on a 2-core CPU"]\n')
    found = {m for s in string_literals(bad) for m in re.findall(r"(?<![\w.{:])\d+(?:[.,]\d+)*", s)}
    assert found - ALLOWED == {"11"}


def test_readme_model_paragraph_is_generated_from_the_shipped_artifact():
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index(README_START) + len(README_START):readme.index(README_END)].strip()
    assert block == readme_summary(ROOT / "assets" / "default"), (
        "README's model paragraph disagrees with assets/default: run `python -m train.card --readme README.md`")


def _row(auc: float, loso: float, unseen: float | None = None) -> dict:
    row = {"mean": {"auc": auc, "tpr": 10.0}, "worst": {"generator": "g", "auc": auc - 20},
           "heldout_far_all": 2.0, "loso_far_worst": {"source": "s", "far": loso}}
    return row | ({"loso_auc": {"mean": unseen}} if unseen is not None else {})


def test_seed_spread_ranks_the_shipped_draw_among_the_other_seeds():
    from train.card import seed_spread

    missing = "\n".join(seed_spread(_row(79.0, 5.0), 0, None))  # `train seeds` not run: the card says so
    assert "Not measured" in missing and "| seed" not in missing
    sd = {"shipped_seed": 0, "rows": {"seed 1": _row(75.0, 6.0), "seed 2": _row(80.0, 4.0), "seed 3": _row(76.0, 5.5)}}
    text = "\n".join(seed_spread(_row(79.0, 5.0), 0, sd))
    assert "| seed 0 (shipped) | 79.0 | - | - | 59.0 (g) | 10.0 | 2.0 | 5.0 (s) |" in text
    assert "| seed 2 | 80.0 | - | - | 60.0 (g) | 10.0 | 2.0 | 4.0 (s) |" in text
    assert "**77.0** (range 75.0-80.0)" in text and "ranks 2 of 4 with 79.0" in text
    assert "against left-out sources over" not in text  # not measured for these rows: no rank sentence


def test_seed_spread_ranks_the_shipped_draw_on_unseen_sources_too():
    """Where the shipped draw ranks against left-out sources, next to its held-out rank: the two can differ (a
    draw lucky on the fitted sources need not be lucky on others)."""
    from train.card import seed_spread

    sd = {"shipped_seed": 0, "rows": {"seed 1": _row(75.0, 6.0, 77.0), "seed 2": _row(76.0, 4.0, 74.0)}}
    text = "\n".join(seed_spread(_row(79.0, 5.0, 73.0), 0, sd))
    assert "| seed 0 (shipped) | 79.0 | 73.0 | - | 59.0 (g) |" in text and "| seed 1 | 75.0 | 77.0 |" in text
    assert "ranks 1 of 3 with 79.0" in text
    assert ("Mean AUC against left-out sources over the 2 other seeds: **75.5** (range 74.0-77.0); the shipped seed "
            "ranks 3 of 3 with 73.0.") in text


def test_seed_spread_ranks_the_shipped_draw_on_the_tone_matched_auc():
    """A draw can lead on the generated faces' look alone: its rank on the tone-matched AUC is stated too."""
    from train.card import seed_spread

    def row(auc: float, matched: float) -> dict:
        return _row(auc, 5.0) | {"tone_matched": {"mean": matched}}

    sd = {"shipped_seed": 0, "rows": {"seed 1": row(75.0, 69.0), "seed 2": row(76.0, 66.0)}}
    text = "\n".join(seed_spread(row(79.0, 67.0), 0, sd))
    assert "| seed 0 (shipped) | 79.0 | - | 67.0 | 59.0 (g) |" in text
    assert "ranks 1 of 3 with 79.0" in text
    assert ("Mean tone-matched AUC over the 2 other seeds: **67.5** (range 66.0-69.0); the shipped seed ranks 2 of 3 "
            "with 67.0.") in text


def test_unseen_comparison_adds_the_tone_matched_auc_on_the_same_rows_when_both_have_it():
    from train.card import unseen_comparison

    gens = ["a", "a@0.5x", "b", "c"]
    model = {"per_generator": {g: {"auc": 80.0} for g in gens},
             "tone_matched": {"per_generator": {"a": 99.0, "a@0.5x": 99.0, "b": 70.0, "c": 60.0}}}
    row = {"seen": "a", "per_generator": {g: {"auc": 70.0} for g in gens}, "mean_unseen": {"auc": 70.0},
           "tone_matched": {"per_generator": {"a": 90.0, "a@0.5x": 90.0, "b": 50.0, "c": 60.0}}}
    (line,) = unseen_comparison(model, {"trained on a": row})
    assert "**70.0**" in line and "**80.0** (+10.0" in line
    assert line.endswith("Tone-matched on the same rows: 55.0 against this model's 65.0 (+10.0).")  # b and c only
    (old,) = unseen_comparison(model, {"trained on a": {k: v for k, v in row.items() if k != "tone_matched"}})
    assert "Tone-matched" not in old  # results from before the baseline reported it
