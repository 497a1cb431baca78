"""The shipped default model (assets/default): complete, small, pickle-free, and consistent with its card."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from detector import Detector, FaceNet, ModelConfig
from detector.model import HighPass

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
DEFAULT = ASSETS / "default"


def _about_text() -> str:
    """The app's About tab on the shipped model (app.py sits at the repository root, outside the package)."""
    import sys

    sys.path.insert(0, str(ROOT))
    import app

    return app.about_text(app.Service(DEFAULT))


def test_default_model_files_and_size():
    names = {p.name for p in DEFAULT.iterdir()}
    assert {"config.json", "model.safetensors", "gmm.npz", "gmm.json", "reference.npz", "eval_summary.json"} <= names
    total = sum(p.stat().st_size for p in ASSETS.rglob("*") if p.is_file())
    assert total <= 50 * 2**20, f"assets/ is {total / 2**20:.1f} MB (limit 50)"
    for npz in DEFAULT.glob("*.npz"):  # npz holding object arrays would need pickle to load
        with np.load(npz, allow_pickle=False) as z:
            assert all(z[k].dtype != object for k in z.files)
        assert zipfile.is_zipfile(npz)


def test_card_states_the_shipped_numbers():
    summary = json.loads((DEFAULT / "eval_summary.json").read_text())
    card = (ASSETS / "MODEL_CARD.md").read_text()
    assert f"{summary['mean']['auc']:.2f}" in card and f"{summary['heldout_far']:.2f}%" in card
    assert "python -m train all --config train/configs/default.toml" in card


def test_default_model_loads_and_flags_by_its_own_threshold():
    det = Detector.load(DEFAULT, device="cpu")
    cfg = json.loads((DEFAULT / "config.json").read_text())
    assert det.model.cfg == ModelConfig(**cfg["model"])
    from safetensors.torch import load_file

    stored, loaded = load_file(str(DEFAULT / "model.safetensors")), det.model.state_dict()
    assert stored.keys() == loaded.keys()  # every weight the network uses comes from the file, as stored
    assert all(torch.equal(loaded[k].to(v.dtype), v) for k, v in stored.items())
    g = cfg["training"]["gmm"]
    assert det.anomaly.config.n_components == g["n_components"]
    assert list(det.anomaly.experts) == ["embedding", *[k for k in ("spectrum", "ripple", "axis") if g.get(f"{k}_dim")]]
    assert all(m.gmm.n_components == g["n_components"] for m in det.anomaly.experts.values())
    ref = det.anomaly.reference_scores
    assert abs(np.mean(ref < det.anomaly.threshold()) - det.anomaly.far) < 0.01


def test_highpass_filter_is_fixed_and_weight_free():
    a, b = FaceNet(ModelConfig("resnet18")), FaceNet(ModelConfig("resnet18", input_filter="highpass"))
    assert a.state_dict().keys() == b.state_dict().keys()  # same weights file layout with either input
    hp = HighPass()
    flat = torch.full((1, 3, 32, 32), 0.7)
    assert torch.allclose(hp(flat), torch.zeros_like(flat), atol=1e-6)  # no content, no residual
    ramp = torch.linspace(-1, 1, 32).view(1, 1, 1, 32).expand(1, 3, 32, 32)
    assert torch.allclose(hp(ramp)[..., 2:-2, 2:-2], torch.zeros(1, 3, 28, 28), atol=1e-5)  # linear shading too
    noise = torch.randn(1, 3, 32, 32)
    assert hp(noise).std() / (hp.gain * noise.std()) > 0.7  # fine structure passes (white noise: 0.89)
    with pytest.raises(ValueError, match="input_filter"):
        FaceNet(ModelConfig("resnet18", input_filter="sobel"))


def test_shipped_summary_card_and_app_name_every_generator_it_does_not_detect():
    """A mean AUC hides a generator whose faces pass as photographs: the summary the app reads, the card and the
    About tab must name each one (a row with enough faces below the protocol's near-chance AUC)."""
    from train.protocol import missed_generators

    summary = json.loads((DEFAULT / "eval_summary.json").read_text())
    missed = set(missed_generators(summary["per_generator"]))
    assert set(summary["not_detected"]) == missed
    card = (ASSETS / "MODEL_CARD.md").read_text()
    about = _about_text()
    for g in missed:
        assert f"**Not detected: {g}.**" in card and f"**Not detected: {g}**" in about


def test_shipped_summary_and_app_state_the_auc_against_left_out_sources():
    """The number closest to what a user's photos meet - generators ranked against faces of a photo source the
    mixture never saw - is in the summary the app reads (from the same left-out sources as the false alarms) and in
    the About tab."""
    summary = json.loads((DEFAULT / "eval_summary.json").read_text())
    ua = summary["loso_auc"]
    assert set(ua["sources"]) <= set(summary["loso_far"]) and ua["worst_cell"]["source"] in ua["sources"]
    assert ua["worst_cell"]["generator"] in summary["per_generator"] and 0 <= ua["worst_cell"]["auc"] <= ua["mean"]
    assert f"the mean AUC is {ua['mean']:.1f}" in _about_text()


def test_shipped_summary_card_and_app_state_the_tone_matched_auc():
    """How much of the AUC is the generated faces' look (brightness, face contrast) and what it costs a contrasty
    photograph: in the summary the app reads, in its About tab and in the card, the same numbers."""
    summary = json.loads((DEFAULT / "eval_summary.json").read_text())
    tm = summary["tone_matched"]
    assert 0 <= tm["far_low_contrast"] <= 100 and 0 <= tm["far_high_contrast"] <= 100 and 0 <= tm["mean"] <= 100
    about = _about_text()
    assert f"mean AUC is {tm['mean']:.1f}." in about and f"flagged at {tm['far_high_contrast']:.1f}%" in about
    card = (DEFAULT.parent / "MODEL_CARD.md").read_text()
    assert f"the mean AUC is {tm['mean']:.1f} instead of {summary['mean']['auc']:.1f}" in card
