"""Input handling for the default model, compared on untrained (seeded random-init) ResNet-18s, so the choice is
made before any pretext training and costs minutes: filter (none / high-pass) x detail cap (none / 128 px).
Same splits, GMM (K=8 full, reg 1e-4), calibration split and metrics as `python -m train`.

The cap is simulated on the uncapped cached crops (224 crop -> N px -> 224, bicubic), which differs from
CropConfig.face_px (cropped from the source image) only for faces whose source is below N px.

    python docs/experiments/2026-11-22-input-choice/probe.py > docs/experiments/2026-11-22-input-choice/results.md
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from detector.anomaly import AnomalyModel  # noqa: E402
from detector.crop import CropConfig, finish, to_tensor  # noqa: E402
from detector.model import FaceNet, ModelConfig  # noqa: E402
from train.config import load_config  # noqa: E402
from train.metrics import detection_metrics, mean_metrics  # noqa: E402
from train.stages import stage_cache  # noqa: E402


def embed(model: FaceNet, crops: np.ndarray, cap: int | None) -> np.ndarray:
    out = []
    for i in range(0, len(crops), 64):
        chunk = [np.asarray(c) for c in crops[i : i + 64]]
        if cap:
            chunk = [np.asarray(Image.fromarray(c).resize((cap, cap), Image.BICUBIC).resize((224, 224), Image.BICUBIC))
                     for c in chunk]
        with torch.inference_mode():
            out.append(model.embed(to_tensor([finish(c, CropConfig()) for c in chunk])).numpy())
    return np.concatenate(out)


def main() -> None:
    torch.set_num_threads(1)
    run = load_config(ROOT / "train/configs/default.toml")
    run = replace(run, crop=replace(run.crop, face_px=None))
    sets = stage_cache(run)
    print("| filter | cap | sd21 AUC | stylegan3 AUC | mean AUC | held-out FAR | FAR per source |")
    print("|---|---|---|---|---|---|---|")
    for filt, cap in [("none", None), ("highpass", None), ("highpass", 128), ("none", 128)]:
        torch.manual_seed(0)
        model = FaceNet(ModelConfig("resnet18", input_filter=filt)).eval()
        emb = {s: {k: embed(model, fs.crops, cap) for k, fs in sets.split(s).items()} for s in ("pretext", "gmm",
                                                                                               "calib", "heldout")}
        fit = np.concatenate([*emb["pretext"].values(), *emb["gmm"].values()])
        m = AnomalyModel.fit(fit, replace(run.gmm), calibration=np.concatenate(list(emb["calib"].values())))
        thr = m.threshold()
        real = {k: m.score(v) for k, v in emb["heldout"].items()}
        all_real = np.concatenate(list(real.values()))
        per = {g: detection_metrics(all_real, m.score(embed(model, fs.crops, cap)), thr) for g, fs in sets.fake.items()}
        far = ", ".join(f"{k} {100 * np.mean(v < thr):.1f}" for k, v in real.items())
        print(f"| {filt} | {cap or '-'} | {per['sd21']['auc']:.1f} | {per['stylegan3']['auc']:.1f} | "
              f"{mean_metrics(per)['auc']:.1f} | {100 * np.mean(all_real < thr):.1f} | {far} |", flush=True)


if __name__ == "__main__":
    main()
