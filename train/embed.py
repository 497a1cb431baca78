"""Features of cached crops - embeddings through the Detector's own preprocessing, or any other feature function -
optionally degraded first (robustness), cached on disk per (features, face set, degradation)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from detector.crop import CropConfig
from detector.imageio import jpeg_roundtrip
from detector.spectrum import RIPPLE_SIGMA, spectral

from .augment import VERSION as AUGMENT_VERSION
from .augment import AugmentConfig, benign, content_rng, rescale

Degrade = Callable[[np.ndarray], np.ndarray]
BatchFeatures = Callable[[list[np.ndarray]], np.ndarray]  # raw crops (as crop_face makes them) -> (N, D) features


def degradation(name: str, augment: AugmentConfig | None = None) -> Degrade | None:
    """'none'; 'jpeg75' (one extra JPEG at quality 75 before the model's own); 'down0.5' (the face seen at half
    resolution: crop shrunk 0.5x and enlarged back, as a 0.5x-downscaled photo would give); 'benign2' (processed
    copy number 2: a random chain of `augment`'s benign operations, fixed per face by its content)."""
    if name == "none":
        return None
    if name.startswith("jpeg"):
        q = int(name[4:])
        return lambda c: jpeg_roundtrip(c, q)
    if name.startswith("down"):
        f = float(name[4:])
        return lambda c: rescale(c, f)
    if name.startswith("benign"):
        if augment is None:
            raise ValueError("the 'benign' degradation needs an AugmentConfig")
        k = int(name[6:])
        return lambda c: benign(c, content_rng(c, k), augment, force=True)
    raise ValueError(f"unknown degradation {name!r}")


def model_key(model: torch.nn.Module) -> str:
    """Content hash of a model's weights (so cached embeddings die with the weights that made them). Computed on the
    tensors, not a file, so the fp16-rounded training weights and the shipped fp16 file give the same key.

    A fixed input filter other than "none" is hashed too: it is not in the weights (no parameters), so the same
    seeded untrained weights behind two filters would otherwise share one key and one set of cached embeddings.
    ("none" adds nothing, so the keys of RGB-input models, the shipped one among them, are unchanged.)"""
    h = hashlib.sha1()
    cfg = getattr(model, "cfg", None)
    if getattr(cfg, "input_filter", "none") != "none":
        h.update(f"input_filter={cfg.input_filter}".encode())
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:12]


def featurize(fn: BatchFeatures, crops: np.ndarray, degrade: Degrade | None = None, batch: int = 64,
              desc: str = "embed") -> np.ndarray:
    out = []
    for i in tqdm(range(0, len(crops), batch), desc=desc, unit="batch", leave=False):
        chunk = [np.asarray(c) for c in crops[i : i + batch]]
        if degrade is not None:
            chunk = [degrade(c) for c in chunk]
        out.append(fn(chunk))
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def cached_features(fn: BatchFeatures, crops: np.ndarray, cache_dir: Path, key: str,
                    degrade_name: str = "none", augment: AugmentConfig | None = None) -> np.ndarray:
    """fn's features of `crops` under `degrade_name`, stored at cache_dir/key-degrade.npy (`key` must name fn)."""
    suffix = degrade_name
    if degrade_name.startswith("benign"):
        suffix += "-" + hashlib.sha1(json.dumps([AUGMENT_VERSION, augment.to_dict()], sort_keys=True).encode()).hexdigest()[:6]
    path = cache_dir / f"{key}-{suffix}.npy"
    if path.is_file():
        z = np.load(path, allow_pickle=False)
        if len(z) == len(crops):
            return z
    z = featurize(fn, crops, degradation(degrade_name, augment), desc=f"features {key} {degrade_name}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, z)
    tmp.replace(path)
    return z


def spectrum_features(run, block: str = "spectrum") -> Callable[[dict, str], dict[str, np.ndarray]]:
    """A Featurize (train.protocol) of one spectral block of the crops (detector.spectrum.SPECTRAL: "spectrum", the
    log spectrum, "ripple" or "axis"), cached like embeddings."""
    crop: CropConfig = run.crop
    # names the crop settings and the block's implementation (spectrum v2: computed from the network input, in torch;
    # the ripple's smoothing width)
    version = {"spectrum": "v2", "ripple": f"ripple-sigma{RIPPLE_SIGMA:g}-v1"}.get(block, f"{block}-v1")
    tag = hashlib.sha1(json.dumps([version, crop.to_dict()], sort_keys=True).encode()).hexdigest()[:6]

    def feats(faces: dict, degrade: str) -> dict[str, np.ndarray]:
        return {k: cached_features(lambda c: spectral(c, crop, block), fs.crops, run.run_dir / "embeddings",
                                   f"{block}{tag}-{fs.id}", degrade, run.augment)
                for k, fs in faces.items()}

    return feats
