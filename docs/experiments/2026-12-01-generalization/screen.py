"""Screen input choices under the validation protocol (train/protocol.py) with untrained networks, before spending
CPU hours on pretext training.

Every variant: a random-init (seeded) ResNet-18, embeddings of the same cached faces through a crop transform,
a GMM (PCA-64 whitened, K=8 full, 5-fold cross-fitted calibration), then per-generator AUC (native and 0.5x,
every evaluation image JPEG q90 first), held-out false alarms and leave-one-source-out false alarms.

Crops come from an uncapped cache (face_px None, 224 px); "capN" re-renders them at N px and back to 224, which
approximates the detector's own cap (rendered from the source image) closely enough to rank choices.

    python docs/experiments/2026-12-01-generalization/screen.py VARIANT [VARIANT ...]
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

from detector.anomaly import GMMConfig  # noqa: E402
from detector.pipeline import Detector  # noqa: E402
from train import protocol  # noqa: E402
from train.augment import AugmentConfig  # noqa: E402
from train.config import load_config  # noqa: E402
from train.embed import cached_features, model_key  # noqa: E402
from train.pretext import make_model  # noqa: E402
from train.stages import stage_cache  # noqa: E402

GMM = GMMConfig(n_components=8, covariance_type="full", reg_covar=1e-4, calib_folds=5, pca_dim=64)
AUG = AugmentConfig(prob=1.0)


def cap(n: int, out: int | None = None):
    """Render at n px, then at `out` px (default: the crop's own size) for the network."""
    def f(c: np.ndarray) -> np.ndarray:
        s = out or c.shape[0]
        return np.asarray(Image.fromarray(c).resize((n, n), Image.BICUBIC).resize((s, s), Image.BICUBIC))
    return f


def scramble(grid: int, inner):
    """Cut the crop in grid x grid patches and shuffle them (a fixed permutation per crop, from its bytes)."""
    def f(c: np.ndarray) -> np.ndarray:
        c = inner(c) if inner else c
        s = c.shape[0] // grid
        tiles = [c[i * s:(i + 1) * s, j * s:(j + 1) * s] for i in range(grid) for j in range(grid)]
        rng = np.random.default_rng(int.from_bytes(c[::7, ::7].tobytes()[:8].ljust(8, b"0"), "little"))
        order = rng.permutation(len(tiles))
        rows = [np.concatenate([tiles[order[i * grid + j]] for j in range(grid)], 1) for i in range(grid)]
        out = np.concatenate(rows, 0)
        return np.asarray(Image.fromarray(out).resize(c.shape[:2][::-1], Image.BICUBIC)) if out.shape != c.shape else out
    return f


VARIANTS = {
    "hp-cap128": dict(filt="highpass", tf=cap(128)),
    "hp-cap96": dict(filt="highpass", tf=cap(96)),
    "hp-cap64": dict(filt="highpass", tf=cap(64)),
    "hp-nocap": dict(filt="highpass", tf=None),
    "rgb-cap128": dict(filt="none", tf=cap(128)),
    "rgb-cap64": dict(filt="none", tf=cap(64)),
    "hp-cap128-aug": dict(filt="highpass", tf=cap(128), copies=1),
    "hp-cap64-aug": dict(filt="highpass", tf=cap(64), copies=1),
    "hp-scr4-cap128": dict(filt="highpass", tf=scramble(4, cap(128))),
    "hp-scr4-cap64": dict(filt="highpass", tf=scramble(4, cap(64))),
    "hp-cap64-s128": dict(filt="highpass", tf=cap(64, 128)),
    "hp-cap96-s128": dict(filt="highpass", tf=cap(96, 128)),
    "hp-cap64-s128-aug": dict(filt="highpass", tf=cap(64, 128), copies=1),
    "hpn-cap128": dict(filt="highpass_norm", tf=cap(128)),
    "hpn-cap64": dict(filt="highpass_norm", tf=cap(64)),
    "rgbhp-cap64": dict(filt="rgb+highpass", tf=cap(64)),
    "rgbhp-cap96": dict(filt="rgb+highpass", tf=cap(96)),
}


def main(names: list[str]) -> None:
    run = load_config(ROOT / "docs/experiments/2026-12-01-generalization/screen.toml")
    run = replace(run, augment=AUG)
    sets = stage_cache(run)
    out = {}
    for name in names:
        v = VARIANTS[name]
        torch.manual_seed(0)
        model = make_model(replace(run.pretext, input_filter=v["filt"])).eval()
        det = Detector(model, None, run.crop, "dlib", device="cpu")
        tf = v["tf"]
        fn = (lambda c, tf=tf: det.embed([tf(x) for x in c])) if tf else det.embed
        key = f"screen-{name}-{model_key(model)}"

        def feats(faces, degrade, fn=fn, key=key):
            return {k: cached_features(fn, fs.crops, run.run_dir / "embeddings", f"{key}-{fs.id}", degrade, AUG)
                    for k, fs in faces.items()}

        t = time.time()
        data = protocol.density_data(run, sets, feats, GMM.calib_folds, v.get("copies", 0))
        res = protocol.evaluate(run, sets, feats, data.fit_model(GMM), loso=(data, GMM))["none"]
        out[name] = res
        print(f"{name}: {protocol.summary(res)} [{time.time() - t:.0f}s]", flush=True)
        dest = ROOT / "runs" / "screen" / f"{name}.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main(sys.argv[1:] or list(VARIANTS))
