"""The model artifact folder: everything a Detector needs, written by `train`, read here. No pickle.

    config.json        format version, ModelConfig, CropConfig, landmark backend, provenance
    model.safetensors  FaceNet weights (fp16 or fp32; with fp16 the GMM stores its Cholesky factors in fp16 too)
    gmm.npz, gmm.json  the anomaly model (see anomaly.py); with spectral experts, also BLOCK/gmm.npz and
                       BLOCK/gmm.json per block (spectrum/, axis/) and product.json, product.npz (see product.py)
    reference.npz      optional: a sample of embeddings for plots (`real`, and `fake` with `fake_labels`)
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .crop import CropConfig
from .errors import ModelNotFoundError
from .model import FaceNet, ModelConfig
from .product import Density, load_density

FORMAT_VERSION = 1
REQUIRED = ("config.json", "model.safetensors", "gmm.npz", "gmm.json")
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "assets" / "default"


def _shipped_dir() -> Path:
    """assets/default in a checkout; in an installed wheel, the same files installed as the `aigface_assets` package."""
    if DEFAULT_DIR.is_dir():
        return DEFAULT_DIR
    spec = importlib.util.find_spec("aigface_assets")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]) / "default"
    return DEFAULT_DIR


def default_model_dir() -> Path:
    """$DETECTOR_MODEL if set, else the default model shipped in assets/default."""
    return Path(os.environ.get("DETECTOR_MODEL") or _shipped_dir())


def save_artifact(folder: str | Path, model: FaceNet, anomaly: Density, crop: CropConfig,
                  backend: str = "dlib", extra: dict | None = None, fp16: bool = False,
                  reference: dict[str, np.ndarray] | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if fp16 else torch.float32
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    anomaly.save(folder, fp16=fp16)
    if reference is not None:
        np.savez_compressed(folder / "reference.npz", **reference)
    config = {"format": FORMAT_VERSION, "model": model.cfg.to_dict(), "crop": crop.to_dict(),
              "landmarks": backend, **(extra or {})}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    return folder


def load_artifact(folder: str | Path) -> tuple[FaceNet, Density, CropConfig, dict]:
    """Load (model in eval mode, fp32), anomaly model, crop config, raw config dict."""
    folder = Path(folder)
    missing = [f for f in REQUIRED if not (folder / f).is_file()]
    if missing:
        raise ModelNotFoundError(
            f"no model artifact at {folder} (missing {', '.join(missing)}). Pass --model DIR, set DETECTOR_MODEL, "
            "or train one: python -m train all --config train/configs/default.toml"
        )
    config = json.loads((folder / "config.json").read_text())
    if config.get("format") != FORMAT_VERSION:
        raise ModelNotFoundError(f"{folder}: artifact format {config.get('format')} not supported (need {FORMAT_VERSION})")
    model = FaceNet(ModelConfig(**config["model"]))
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(folder / "model.safetensors")).items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, load_density(folder), CropConfig.from_dict(config["crop"]), config


def load_reference(folder: str | Path) -> dict[str, np.ndarray]:
    """The optional embedding sample for plots ({} if the artifact has none)."""
    path = Path(folder) / "reference.npz"
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
