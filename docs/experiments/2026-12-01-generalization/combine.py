"""Combine screened features without recomputing them: concatenated embeddings of two variants (one density), and
GMM settings (PCA dimension, K) on one variant's cached embeddings.

    python docs/experiments/2026-12-01-generalization/combine.py concat hp-cap64 rgb-cap128
    python docs/experiments/2026-12-01-generalization/combine.py gmm hp-cap64 pca=32,k=8
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screen  # noqa: E402
from screen import AUG, GMM, ROOT, VARIANTS  # noqa: E402

from detector.pipeline import Detector  # noqa: E402
from train import protocol  # noqa: E402
from train.config import load_config  # noqa: E402
from train.embed import cached_features, model_key  # noqa: E402
from train.pretext import make_model  # noqa: E402
from train.stages import stage_cache  # noqa: E402


def variant_feats(run, name):
    v = VARIANTS[name]
    torch.manual_seed(0)
    model = make_model(replace(run.pretext, input_filter=v["filt"])).eval()
    det = Detector(model, None, run.crop, "dlib", device="cpu")
    tf = v["tf"]
    fn = (lambda c, tf=tf: det.embed([tf(x) for x in c])) if tf else det.embed
    key = f"screen-{name}-{model_key(model)}"

    def feats(faces, degrade):
        return {k: cached_features(fn, fs.crops, run.run_dir / "embeddings", f"{key}-{fs.id}", degrade, AUG)
                for k, fs in faces.items()}
    return feats


def report(name, res):
    aucs = " ".join(f"{g}={m['auc']:.1f}" for g, m in res["per_generator"].items())
    loso = " ".join(f"{k}={m['far']:.1f}" for k, m in res["loso_far"].items())
    print(f"{name}: mean AUC {res['mean']['auc']:.1f} worst {res['worst']['auc']:.1f} ({res['worst']['generator']}) "
          f"heldout FAR {res['heldout_far_all']:.1f} LOSO worst {res['loso_far_worst']['far']:.1f} "
          f"({res['loso_far_worst']['source']})\n   {aucs}\n   LOSO {loso}", flush=True)


def main() -> None:
    run = replace(load_config(ROOT / "docs/experiments/2026-12-01-generalization/screen.toml"), augment=AUG)
    sets = stage_cache(run)
    mode = sys.argv[1]
    if mode == "concat":
        parts = [variant_feats(run, n) for n in sys.argv[2:]]

        def feats(faces, degrade):
            got = [f(faces, degrade) for f in parts]
            # each part standardised by its own overall scale so neither dominates the PCA
            return {k: np.concatenate([g[k] / SCALE[i] for i, g in enumerate(got)], 1) for k in got[0]}

        SCALE = []
        for p in parts:
            z = np.concatenate(list(protocol.density_data(run, sets, p, 0).fit.values()))
            SCALE.append(float(np.sqrt(((z - z.mean(0)) ** 2).sum(1).mean())))
        cfg, copies, label = GMM, 0, "+".join(sys.argv[2:])
    else:
        feats = variant_feats(run, sys.argv[2])
        kv = dict(x.split("=") for x in sys.argv[3].split(","))
        cfg = replace(GMM, pca_dim=int(kv.get("pca", 64)) or None, n_components=int(kv.get("k", 8)),
                      covariance_type=kv.get("cov", "full"), reg_covar=float(kv.get("reg", GMM.reg_covar)))
        copies, label = int(kv.get("copies", 0)), f"{sys.argv[2]} {sys.argv[3]}"
    data = protocol.density_data(run, sets, feats, cfg.calib_folds, copies)
    res = protocol.evaluate(run, sets, feats, data.fit_model(cfg), loso=(data, cfg))["none"]
    report(label, res)


if __name__ == "__main__":
    main()
