"""Re-synthesis (issue 11's third lever): do the traces of a decoder trained on real faces only point at generators?

AutoGAN (Zhang et al. 2019) trained a classifier on real images vs the same images passed through a generator-like
autoencoder - no generated image - and it caught GANs it never saw: the decoder's up-sampling leaves the traces
generators leave. Here, without training the network (pretext training lowered every generator's AUC on this CPU,
docs/experiments/2026-12-01-generalization):

1. an autoencoder (two stride-2 convolutions down, two stride-2 transposed convolutions up, like a generator's last
   layers) is trained on the pretext split's real crops at 128 px - the detail cap, so the re-synthesised face has
   the decoder's traces at the scale the model sees - with an L1 loss; `resynth` = its output, enlarged to the
   224 px crop exactly as crop_face enlarges a capped face, then the model's own path (JPEG finish, features);
2. `clf`: a logistic regression on the shipped model's features ([embedding 768, log spectrum 111, axis 110],
   standardized) telling real pretext crops from their re-synthesised copies; `clfspec`: the same on the two
   spectral blocks only. A face's feature is the classifier's logit. Every real face gets the logit of a
   classifier trained WITHOUT its photo source (8 sources), so a real face is always new to its classifier, as a
   face from an unseen source would be; generated faces get the all-sources classifier's;
3. `resid`: the radially averaged log power spectrum of the face's own reconstruction residual (the 128 px face
   minus the autoencoder's output), the autoencoder as a probe rather than a generator (AEROBLADE, DIRE).

Each alone (one mixture on the block, threshold by source) and as a fourth expert next to the shipped three
(`+name`), under the full protocol with leave-one-source-out; `ship` is the shipped product through this harness.

    python docs/experiments/2026-12-02-resynthesis/resynth.py clf +clf clfspec
    python docs/experiments/2026-12-02-resynthesis/resynth.py --ae-seeds 0 1 clf     # one classifier, two decoders
    python docs/experiments/2026-12-02-resynthesis/resynth.py --control clf
    python docs/experiments/2026-12-02-resynthesis/resynth.py clf --degrades jpeg95 jpeg75 jpeg50 down0.5

Results and the reading (rejected): README.md beside this file.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-01-spectrum-fusion"))
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-02-seed-ensemble"))

from ensemble import EnsembleConfig as Blocks  # a product of experts over named blocks (name -> PCA dim)
from fusion import RUN, artifact, report

from detector.product import block_widths
from train import protocol
from train.embed import cached_features
from train.stages import load_for_eval, network_features, stage_cache

PX = 128  # the detail cap (CropConfig.face_px): the decoder works at the scale the model sees a face at
OUT = RUN.run_dir / "resynth"
RESAMPLE = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}[RUN.crop.resample]


class AE(nn.Module):
    """128 -> 32 -> 128 px; the up-sampling is two stride-2 transposed convolutions, as in DCGAN-style decoders."""

    def __init__(self, w: int = 16) -> None:
        super().__init__()

        def act() -> nn.Module:
            return nn.LeakyReLU(0.2)

        self.net = nn.Sequential(
            nn.Conv2d(3, w, 3, padding=1), act(), nn.Conv2d(w, 2 * w, 4, 2, 1), act(),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1), act(),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), act(), nn.ConvTranspose2d(2 * w, w, 4, 2, 1), act(),
            nn.Conv2d(w, 3, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # no skip: every output pixel comes out of the decoder's up-sampling, as a generator's


def small(crops) -> torch.Tensor:
    """uint8 224 px crops -> (B, 3, 128, 128) in [-1, 1]: the crop back at the detail cap."""
    a = np.stack([np.asarray(Image.fromarray(np.asarray(c)).resize((PX, PX), RESAMPLE)) for c in crops])
    return torch.from_numpy(a).permute(0, 3, 1, 2).float().div(127.5).sub(1)


def large(x: torch.Tensor) -> list[np.ndarray]:
    """(B, 3, 128, 128) in [-1, 1] -> uint8 224 px crops, enlarged as crop_face enlarges a capped face."""
    a = x.clamp(-1, 1).add(1).mul(127.5).round().byte().permute(0, 2, 3, 1).numpy()
    return [np.asarray(Image.fromarray(i).resize((RUN.crop.size, RUN.crop.size), RESAMPLE)) for i in a]


def train_ae(crops: np.ndarray, epochs: int, seed: int = 0) -> AE:
    path = OUT / f"ae-e{epochs}-s{seed}.safetensors"
    torch.manual_seed(seed)
    ae = AE()
    if path.is_file():
        ae.load_state_dict(load_file(path))
        return ae.eval()
    x = torch.cat([small(crops[i:i + 256]) for i in range(0, len(crops), 256)])
    opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        perm, total = torch.randperm(len(x), generator=g), 0.0
        for i in tqdm(range(0, len(x), 32), desc=f"ae epoch {ep}", leave=False):
            b = x[perm[i:i + 32]]
            b = torch.where(torch.rand(len(b), 1, 1, 1, generator=g) < 0.5, b, b.flip(-1))
            loss = (ae(b) - b).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(b)
        print(f"ae epoch {ep}: L1 {total / len(x) * 127.5:.2f} (0-255 units)", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    save_file(ae.state_dict(), path)
    return ae.eval()


def pretext_decoder(sets, epochs: int, seed: int) -> AE:
    """The decoder trained (or loaded) on every pretext-split real crop."""
    return train_ae(np.concatenate([fs.crops for fs in sets.split("pretext").values()]), epochs, seed)


@torch.inference_mode()
def resynthesize(ae: AE | None, crops) -> list[np.ndarray]:
    """The face at 128 px through the decoder (ae), or - the control, `--control` - halved and enlarged back
    (bicubic): the detail lost without any learned up-sampling."""
    if ae is None:
        half = [Image.fromarray(np.asarray(Image.fromarray(np.asarray(c)).resize((PX, PX), RESAMPLE))).resize(
            (PX // 2, PX // 2), RESAMPLE).resize((PX, PX), RESAMPLE) for c in crops]
        return [np.asarray(h.resize((RUN.crop.size, RUN.crop.size), RESAMPLE)) for h in half]
    return large(ae(small(crops)))


N2 = PX // 2
_YY, _XX = np.indices((PX, PX)) - N2
_RING = np.hypot(_YY, _XX).astype(np.int64).ravel()
_IN = _RING < N2
_COUNT = np.bincount(_RING[_IN], minlength=N2)


@torch.inference_mode()
def residual_spectrum(ae: AE, crops) -> np.ndarray:
    """Radially averaged log power of (face - reconstruction), grey, rings 1..63."""
    x = small(crops)
    r = (x - ae(x)).mean(1).double().numpy() * 127.5
    r = r - r.mean(axis=(1, 2), keepdims=True)
    p = (np.abs(np.fft.fftshift(np.fft.fft2(r), axes=(1, 2))) ** 2).reshape(len(r), -1)
    rings = np.stack([np.bincount(_RING[_IN], weights=q[_IN], minlength=N2) for q in p]) / _COUNT
    return np.log(rings[:, 1:] + 1e-6).astype(np.float32)


def classifiers(base, det, aes: list[tuple[AE | None, str]], sets, cols: slice, tag: str) -> dict[str | None, object]:
    """{source: real-vs-resynthesised classifier fitted without that source; None: fitted on every source}. With
    several decoders, the resynthesised class holds every decoder's copy of each face (real faces weighted to match),
    so the classifier keeps what the decoders share rather than one draw's quirks."""
    pretext = sets.split("pretext")
    real = base(pretext, "none")
    fakes = [{k: cached_features(lambda c, ae=ae: det.features(resynthesize(ae, c)), fs.crops, OUT,
                                 f"resynth-{t}-{fs.id}") for k, fs in pretext.items()} for ae, t in aes]
    X = {k: np.concatenate([*[real[k]] * len(aes), *[f[k] for f in fakes]])[:, cols] for k in pretext}
    y = {k: np.r_[np.zeros(len(real[k]) * len(aes)), np.ones(len(real[k]) * len(aes))] for k in pretext}
    src = list(pretext)

    def fit(keep: list[str], C: float):
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000)).fit(
            np.concatenate([X[k] for k in keep]), np.concatenate([y[k] for k in keep]))

    # C by cross-validation over sources (real vs resynthesised only; no generated face involved)
    groups = np.concatenate([np.full(len(y[k]), i) for i, k in enumerate(src)])
    Xa, ya = np.concatenate([X[k] for k in src]), np.concatenate([y[k] for k in src])
    cv = {C: cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000)), Xa, ya,
                             groups=groups, cv=GroupKFold(4), scoring="roc_auc").mean() for C in (0.001, 0.01, 0.1)}
    C = max(cv, key=cv.get)
    print(f"{tag}: real vs resynthesised, AUC by source-grouped CV {({c: round(100 * v, 1) for c, v in cv.items()})}"
          f" -> C={C}", flush=True)
    return {None: fit(src, C), **{s: fit([k for k in src if k != s], C) for s in src}}


def logit_features(base, clfs: dict[str | None, object], cols: slice, sets) -> protocol.Featurize:
    """A Featurize of the classifiers' logit (N, 1): a real face's from the classifier trained without its source,
    any other face's (generated, or from a photo source the classifiers never saw) from the all-sources one."""
    real_sources = set(sets.real) | set(sets.exif)

    def feats(faces, degrade):
        z = base(faces, degrade)
        return {k: clfs[k if k in real_sources else None].decision_function(z[k][:, cols])[:, None]
                .astype(np.float32) for k in faces}
    return feats


def main(names: list[str], epochs: int, net_seed: int, ae_seeds: list[int], degrades: tuple[str, ...],
         control: bool = False) -> None:
    sets = stage_cache(RUN)
    det, wkey = load_for_eval(artifact(net_seed))
    base = network_features(RUN, det, wkey, ("spectrum", "axis"))
    pretext = sets.split("pretext")
    net_tag = f"-net{net_seed}" if net_seed else ""
    aes = [(None, "clf-down2" + net_tag)] if control else [
        (pretext_decoder(sets, epochs, a),
         f"clf-e{epochs}" + (f"-ae{a}" if a else "") + net_tag) for a in ae_seeds]
    ae = aes[0][0]
    run_tag = ("down2" if control else f"e{epochs}" + ("-ae" + "+".join(map(str, ae_seeds)) if ae_seeds != [0] else "")
               ) + net_tag
    blocks = {}

    def logit_block(cols: slice, tag: str):
        return logit_features(base, classifiers(base, det, aes, sets, cols, tag), cols, sets)

    for name in names:
        cand = name.lstrip("+")
        if cand not in blocks and cand != "ship":
            if cand == "clf":
                blocks[cand] = (logit_block(slice(0, None), f"clf-{run_tag}"), 1)
            elif cand == "clfspec":
                blocks[cand] = (logit_block(slice(768, None), f"clf-{run_tag}"), 1)
            elif cand == "resid":
                def resid(faces, degrade, tag=run_tag):
                    return {k: cached_features(lambda c: residual_spectrum(ae, c), fs.crops, OUT,
                                               f"resid-{tag}-{fs.id}", degrade) for k, fs in faces.items()}
                blocks[cand] = (resid, 32)
            else:
                raise ValueError(name)
        shipped = {"base": (base, None)}
        parts = ({**shipped, cand: blocks[cand]} if name.startswith("+") else {cand: blocks[cand]}
                 if cand != "ship" else shipped)
        one = next(iter(pretext.values())).subset(np.arange(2))
        widths, dims = {}, {}
        for k, (f, d) in parts.items():
            if k == "base":
                widths.update(block_widths(det.model.cfg.embed_dim, RUN.crop, ("spectrum", "axis")))
                dims.update({b: g.pca_dim for b, g in RUN.gmm.experts().items()})
            else:
                widths[k] = f({"x": one}, "none")["x"].shape[1]
                dims[k] = min(d, widths[k])
        Blocks.blocks = dims
        cfg = Blocks(**asdict(RUN.gmm))

        def feats(faces, degrade, parts=parts):
            ps = [f(faces, degrade) for f, _ in parts.values()]
            return {k: np.concatenate([p[k] for p in ps], 1).astype(np.float32) for k in ps[0]}

        t = time.time()
        data = protocol.density_data(RUN, sets, feats, cfg.calib_folds, RUN.augment.copies, widths)
        res = protocol.evaluate(RUN, sets, feats, data.fit_model(cfg), degrades, (data, cfg))
        report(f"resynth-{name}-{run_tag}", net_seed, res["none"], time.time() - t)
        for deg in degrades[1:]:
            r = res[deg]
            print(f"   {deg}: mean AUC {r['mean']['auc']:.1f} held-out FAR {r['heldout_far_all']:.2f} "
                  + " ".join(f"{k}={v:.1f}" for k, v in r["heldout_far"].items()), flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--net-seed", type=int, default=0, help="the random network (artifacts as fusion.artifact finds them)")
    ap.add_argument("--ae-seeds", type=int, nargs="+", default=[0], help="several: one classifier on every decoder's copies")
    ap.add_argument("--degrades", nargs="*", default=[], help="robustness rows, e.g. jpeg95 jpeg75 jpeg50 down0.5")
    ap.add_argument("--control", action="store_true", help="no decoder: the face halved and enlarged back (bicubic)")
    ap.add_argument("names", nargs="+")
    a = ap.parse_args()
    main(a.names, a.epochs, a.net_seed, a.ae_seeds, ("none", *a.degrades), a.control)
