"""Build a tiny but complete model artifact for tests and CLI demos (random-init backbone, real GMM).

    python -m tests.tiny_artifact OUT_DIR

The backbone is untrained, so its verdicts mean nothing; the point is to exercise the full path
(load -> detect -> crop -> embed + spectral profiles -> product of three GMMs -> threshold) exactly as with a trained
model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from skimage import data

from detector import CropConfig, Detector, FaceNet, GMMConfig, ModelConfig, ProductModel, crop_face, save_artifact
from detector.faces import get_face_finder
from detector.imageio import jpeg_roundtrip
from detector.product import block_widths, spectral_blocks
from detector.spectrum import spectral


def astronaut_crops(n: int = 24, seed: int = 0) -> list[np.ndarray]:
    """Variants of the astronaut's face crop: jittered landmarks, brightness and JPEG quality."""
    img = data.astronaut()
    lm = get_face_finder("dlib")(img)[0].landmarks
    rng = np.random.default_rng(seed)
    crops = []
    for _ in range(n):
        centre = lm.mean(axis=0)
        jit = centre + (lm - centre) * rng.uniform(0.95, 1.05) + rng.normal(0, 3, size=2)
        c = crop_face(img, jit, CropConfig()).image
        c = np.clip(c.astype(np.float32) * rng.uniform(0.85, 1.15), 0, 255).astype(np.uint8)
        crops.append(jpeg_roundtrip(c, int(rng.integers(60, 96))))
    return crops


def build_tiny_artifact(folder: str | Path, backbone: str = "resnet18", seed: int = 0,
                        experts: tuple[str, ...] = ("spectrum", "axis")) -> Path:
    """`experts`: the spectral experts (detector.spectrum.SPECTRAL names), 8 components each."""
    torch.manual_seed(seed)
    model = FaceNet(ModelConfig(backbone=backbone)).eval()
    det = Detector(model, device="cpu")
    crops = astronaut_crops()
    z = det.embed(crops)
    cfg = GMMConfig(n_components=2, covariance_type="diag", seed=seed, **{f"{b}_dim": 8 for b in experts})
    blocks = spectral_blocks(cfg.experts())
    features = np.concatenate([z, *[spectral(crops, CropConfig(), b) for b in blocks]], axis=1)
    anomaly = ProductModel.fit(features, cfg, block_widths(model.cfg.embed_dim, CropConfig(), blocks))
    return save_artifact(folder, model, anomaly, CropConfig(), extra={"note": "tiny test artifact, untrained"},
                         reference={"real": z.astype(np.float32)})


if __name__ == "__main__":
    print(build_tiny_artifact(sys.argv[1] if len(sys.argv) > 1 else "tiny_model"))
