"""Embeddings of cached crops through the Detector's own preprocessing, optionally degraded first (robustness),
cached on disk per (weights, set, degradation)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image
from tqdm import tqdm

from detector.imageio import jpeg_roundtrip
from detector.pipeline import Detector

Degrade = Callable[[np.ndarray], np.ndarray]


def degradation(name: str) -> Degrade | None:
    """'none', 'jpeg75' (one extra JPEG at quality 75 before the model's own), 'down0.5' (the face seen at half
    resolution: crop shrunk 0.5x and enlarged back, as a 0.5x-downscaled photo would give)."""
    if name == "none":
        return None
    if name.startswith("jpeg"):
        q = int(name[4:])
        return lambda c: jpeg_roundtrip(c, q)
    if name.startswith("down"):
        f = float(name[4:])

        def down(c: np.ndarray) -> np.ndarray:
            s = c.shape[0]
            small = Image.fromarray(c).resize((max(8, round(s * f)),) * 2, Image.BICUBIC)
            return np.asarray(small.resize((s, s), Image.BICUBIC))

        return down
    raise ValueError(f"unknown degradation {name!r}")


def weights_key(path: Path) -> str:
    """Content hash of a weights file (so cached embeddings die with the weights that made them)."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


def embed_crops(det: Detector, crops: np.ndarray, degrade: Degrade | None = None, batch: int = 64,
                desc: str = "embed") -> np.ndarray:
    out = []
    for i in tqdm(range(0, len(crops), batch), desc=desc, unit="batch", leave=False):
        chunk = [np.asarray(c) for c in crops[i : i + batch]]
        if degrade is not None:
            chunk = [degrade(c) for c in chunk]
        out.append(det.embed(chunk))
    return np.concatenate(out) if out else np.zeros((0, det.model.cfg.embed_dim), np.float32)


def cached_embeddings(det: Detector, crops: np.ndarray, cache_dir: Path, key: str, degrade_name: str = "none") -> np.ndarray:
    """Embeddings of `crops` under `degrade_name`, stored at cache_dir/key-degrade.npy."""
    path = cache_dir / f"{key}-{degrade_name}.npy"
    if path.is_file():
        z = np.load(path, allow_pickle=False)
        if len(z) == len(crops):
            return z
    z = embed_crops(det, crops, degradation(degrade_name), desc=f"embed {key} {degrade_name}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, z)
    tmp.replace(path)
    return z
