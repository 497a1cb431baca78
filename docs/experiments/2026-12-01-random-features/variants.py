"""Variants of the shipped random-feature extractor, under the validation protocol (train/protocol.py), on the
default run's face cache and splits (`python -m train all --config train/configs/default.toml` made them).

    python docs/experiments/2026-12-01-random-features/variants.py bn:0 bn:1 bn:2 cat:0,1,2 layers:0

- `plain:S`   the untrained ResNet-18 of seed S, BatchNorm as initialised (identity in eval mode) - the shipped kind;
- `bn:S`      the same network with BatchNorm running statistics measured on the density's fit faces (real
              photographs only: a forward pass in train mode, no gradient, no label);
- `cat:S,T,U` the embeddings of several plain seeds side by side (each scaled to unit overall spread);
- `bncat:S,T` the same for bn:S networks;
- `layers:S`  per-channel mean and std of all four ResNet stages (1,920-d) instead of the 768-d embedding;
- `s128:S`    the network fed the face at 128 px (its rendering size) instead of enlarged to 224;
- `flip:S`    the embedding averaged with the mirrored face's;
- `--by-source` calibrate the threshold by source ([gmm] calib_by = "source", the default since); without it,
                by file in calib_folds folds, as the default was when the other rows ran.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from detector.crop import network_input  # noqa: E402
from detector.pipeline import Detector  # noqa: E402
from train import protocol  # noqa: E402
from train.config import load_config  # noqa: E402
from train.embed import cached_features, model_key  # noqa: E402
from train.pretext import make_model  # noqa: E402
from train.stages import stage_cache  # noqa: E402

RUN = load_config(ROOT / "train/configs/default.toml")


@torch.no_grad()
def recalibrate_bn(model: torch.nn.Module, crops: np.ndarray, crop_cfg, batch: int = 64) -> None:
    """BatchNorm running mean/var := their averages over `crops` (cumulative, momentum None)."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    order = np.random.default_rng(0).permutation(len(crops))
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        if len(idx) < 8:
            continue
        model.embed(network_input([crops[j] for j in idx], crop_cfg))
    model.eval()


def network(seed: int, bn: bool, sets) -> Detector:
    torch.manual_seed(seed)
    model = make_model(replace(RUN.pretext, seed=seed)).eval()
    if bn:
        fit = np.concatenate([fs.crops for fs in sets.split("pretext").values()])
        t = time.time()
        recalibrate_bn(model, fit, RUN.crop)
        print(f"  bn statistics of seed {seed} from {len(fit)} fit faces [{time.time() - t:.0f}s]", flush=True)
    return Detector(model, None, RUN.crop, RUN.data.backend, device="cpu")


@torch.inference_mode()
def layer_stats(det: Detector, crops) -> np.ndarray:
    """Per-channel mean and standard deviation of every ResNet stage's output (64+128+256+512 channels, x2):
    texture statistics of the random network at four scales instead of the pooled last stage alone."""
    b = det.model.backbone
    out = []
    for i in range(0, len(crops), 64):
        x = network_input(list(crops[i:i + 64]), det.crop_cfg)
        x = b.maxpool(b.relu(b.bn1(b.conv1(det.model.prefilter(x)))))
        parts = []
        for layer in (b.layer1, b.layer2, b.layer3, b.layer4):
            x = layer(x)
            parts += [x.mean((2, 3)), x.std((2, 3))]
        out.append(torch.cat(parts, 1).numpy())
    return np.concatenate(out)


def features(det: Detector, label: str, fn=None):
    key = f"rf-{label}-{model_key(det.model)}"
    fn = fn or det.embed

    def feats(faces, degrade):
        return {k: cached_features(fn, fs.crops, RUN.run_dir / "embeddings", f"{key}-{fs.id}", degrade,
                                   RUN.augment) for k, fs in faces.items()}
    return feats


def concat(parts, sets):
    scale = []
    for p in parts:
        z = np.concatenate(list(protocol.density_data(RUN, sets, p, 0).fit.values()))
        scale.append(float(np.sqrt(((z - z.mean(0)) ** 2).sum(1).mean())))

    def feats(faces, degrade):
        got = [p(faces, degrade) for p in parts]
        return {k: np.concatenate([g[k] / scale[i] for i, g in enumerate(got)], 1) for k in got[0]}
    return feats


def variant(name: str, sets):
    kind, arg = name.split(":")
    seeds = [int(s) for s in arg.split(",")]
    if kind in ("plain", "bn"):
        return features(network(seeds[0], kind == "bn", sets), name)
    if kind == "s128":  # the network fed the 128 px rendering itself instead of its 224 px enlargement
        det = network(seeds[0], False, sets)
        det = Detector(det.model, None, replace(RUN.crop, size=128), RUN.data.backend, device="cpu")
        small = lambda c: [np.asarray(Image.fromarray(np.asarray(x)).resize((128, 128), Image.BICUBIC)) for x in c]  # noqa: E731
        return features(det, name, lambda c, det=det: det.embed(small(c)))
    if kind == "flip":  # the embedding averaged with that of the mirrored face
        det = network(seeds[0], False, sets)
        return features(det, name, lambda c, det=det: (det.embed(c) + det.embed([np.ascontiguousarray(np.asarray(x)[:, ::-1]) for x in c])) / 2)
    if kind in ("layers", "bnlayers"):
        det = network(seeds[0], kind == "bnlayers", sets)
        return features(det, name, lambda c, det=det: layer_stats(det, c))
    if kind in ("cat", "bncat"):
        bn = kind == "bncat"
        return concat([features(network(s, bn, sets), f"{'bn' if bn else 'plain'}:{s}") for s in seeds], sets)
    raise SystemExit(f"unknown variant {name}")


def main(names: list[str]) -> None:
    sets = stage_cache(RUN)
    by_source = "--by-source" in names  # otherwise by file (calib_folds), as the default was when this ran
    cfg = replace(RUN.gmm, calib_by="source" if by_source else "file", spectrum_dim=None, axis_dim=None)  # one mixture
    names = [n for n in names if not n.startswith("--")]
    for name in names:
        t = time.time()
        feats = variant(name, sets)
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds)
        name += "+by-source" if by_source else ""
        res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), loso=(data, cfg))["none"]
        print(f"{name}: {protocol.summary(res)} [{time.time() - t:.0f}s]", flush=True)
        dest = ROOT / "runs" / "random-features" / f"{name.replace(':', '_').replace(',', '-')}.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main(sys.argv[1:])
