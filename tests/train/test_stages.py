"""train.stages: `[pretext] epochs = 0` ships the seeded untrained network, reproducibly."""

from types import SimpleNamespace

import torch
from safetensors.torch import load_file

from train.config import PretextConfig
from train.pretext import make_model
from train.stages import stage_pretext


def test_zero_epochs_gives_the_seeded_random_init_network(tmp_path):
    cfg = PretextConfig(backbone="resnet18", epochs=0, seed=3)
    run = SimpleNamespace(pretext=cfg, run_dir=tmp_path)
    a = load_file(str(stage_pretext(run, sets=None, out=tmp_path / "a")))  # no data needed: nothing is trained
    b = load_file(str(stage_pretext(run, sets=None, out=tmp_path / "b")))
    torch.manual_seed(3)
    expected = make_model(cfg).state_dict()
    assert a.keys() == expected.keys()
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], expected[k].float()) for k in a)
    other = load_file(str(stage_pretext(SimpleNamespace(pretext=PretextConfig(backbone="resnet18", epochs=0, seed=4),
                                                        run_dir=tmp_path), sets=None, out=tmp_path / "c")))
    assert not torch.equal(a["backbone.conv1.weight"], other["backbone.conv1.weight"])
