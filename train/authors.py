"""`python -m train import`: use the authors' released checkpoint (MZMMSEC/AIGFD_EXIF) as the feature extractor.

Their checkpoint is a dict whose `model` entry is a state dict of `EXIFNet_classfication_5heads_v2`: the ResNet-50
image encoder under `model.visual.*` (fc replaced by Linear(2048, 768)), five Linear(768, 1) heads `fc_av`
(aperture), `fc_et` (exposure time), `fc_fl` (focal length), `fc_iso` (ISO) and `fc_face` (manipulated), and
leftovers of the CLIP text tower under other `model.*` keys, which are ignored. This module maps it onto
`detector.model.FaceNet` (one Linear(768, 5) for the heads, rows in HEAD_NAMES order) and writes ordinary pretext
weights; the `gmm` stage then fits the mixture and threshold on the real faces of the run's config, and the result
is a normal artifact for the app and the CLI.

Loaded with `torch.load(weights_only=True)`: tensors and plain containers only, never arbitrary pickled code.
Their preprocessing (pre-cropped faces resized to 224, CLIP normalisation, no JPEG re-encode) is the crop config
of train/configs/authors.toml, and is recorded in the artifact like any other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from detector.model import HEAD_NAMES, FaceNet, ModelConfig

from .config import RunConfig, save_json
from .pretext import save_weights

# their head -> our head (HEAD_NAMES order: aperture, exposure, focal_length, iso, manipulated)
HEAD_KEYS = {"aperture": "fc_av", "exposure": "fc_et", "focal_length": "fc_fl", "iso": "fc_iso", "manipulated": "fc_face"}
ENCODER = "model.visual."


def map_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Their state dict -> FaceNet's (resnet50, 768-d). Raises ValueError naming what is missing or mis-shaped."""
    state = {k.removeprefix("module."): v for k, v in state.items()}  # saved from DataParallel/DDP
    out = {"backbone." + k[len(ENCODER):]: v for k, v in state.items() if k.startswith(ENCODER)}
    missing = [f"{HEAD_KEYS[h]}.{p}" for h in HEAD_NAMES for p in ("weight", "bias") if f"{HEAD_KEYS[h]}.{p}" not in state]
    if not out or missing:
        raise ValueError("not an AIGFD_EXIF 5-head checkpoint: "
                         + (f"no '{ENCODER}*' encoder weights" if not out else f"missing heads {missing}"))
    out["heads.weight"] = torch.cat([state[f"{HEAD_KEYS[h]}.weight"].reshape(1, -1) for h in HEAD_NAMES])
    out["heads.bias"] = torch.cat([state[f"{HEAD_KEYS[h]}.bias"].reshape(1) for h in HEAD_NAMES])
    expected = FaceNet(ModelConfig("resnet50", 768)).state_dict()
    wrong = [k for k in expected if k not in out or out[k].shape != expected[k].shape]
    extra = [k for k in out if k not in expected]
    if wrong or extra:
        raise ValueError(f"checkpoint does not match a ResNet-50 with fc 2048->768: "
                         f"{len(wrong)} missing or mis-shaped ({', '.join(wrong[:4])}...), {len(extra)} unexpected")
    return {k: v.float() if v.is_floating_point() else v for k, v in out.items()}


def load_authors_checkpoint(path: str | Path) -> FaceNet:
    """A FaceNet (resnet50, 768-d, plain RGB input) with the authors' weights, in eval mode."""
    path = Path(path)
    ck = torch.load(path, map_location="cpu", weights_only=True)
    state = ck.get("model", ck) if isinstance(ck, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a dict with a 'model' state dict")
    model = FaceNet(ModelConfig("resnet50", 768, "none"))
    model.load_state_dict(map_state_dict(state), strict=True)
    return model.eval()


def stage_import(run: RunConfig) -> Path:
    """Write the checkpoint as the run's pretext weights (runs/<name>/pretext/model.safetensors)."""
    src = run.authors.checkpoint
    if not src:
        raise ValueError("set [authors] checkpoint = 'path/to/checkpoint.pth' in the config")
    p = run.pretext
    if (p.backbone, p.embed_dim, p.input_filter) != ("resnet50", 768, "none"):
        raise ValueError("the authors' network is resnet50, 768-d, plain RGB: set [pretext] backbone = 'resnet50', "
                         "embed_dim = 768, input_filter = 'none' (see train/configs/authors.toml)")
    model = load_authors_checkpoint(src)
    out = run.run_dir / "pretext"
    out.mkdir(parents=True, exist_ok=True)
    save_weights(model, out / "model.safetensors")
    sha1 = hashlib.sha1(Path(src).read_bytes()).hexdigest()
    save_json({"imported_from": str(src), "sha1": sha1, "pretext": p.__dict__, "crop": run.crop.to_dict(),
               "head_mapping": HEAD_KEYS}, out / "pretext_config.json")
    return out / "model.safetensors"
