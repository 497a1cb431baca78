"""train.embed: the cache key of a model's features."""

import torch

from detector.model import FaceNet, ModelConfig
from train.embed import model_key


def _net(input_filter: str) -> FaceNet:
    torch.manual_seed(0)
    return FaceNet(ModelConfig(backbone="resnet18", embed_dim=16, input_filter=input_filter))


def test_model_key_follows_weights_and_fixed_input_filter():
    rgb, hp, hp_norm = _net("none"), _net("highpass"), _net("highpass_norm")
    assert all(torch.equal(a, b) for a, b in zip(rgb.state_dict().values(), hp.state_dict().values()))  # same weights
    assert len({model_key(rgb), model_key(hp), model_key(hp_norm)}) == 3  # ... but not the same features
    assert model_key(rgb) == model_key(_net("none"))  # deterministic
    with torch.no_grad():
        next(iter(rgb.parameters())).add_(1.0)
    assert model_key(rgb) != model_key(_net("none"))
