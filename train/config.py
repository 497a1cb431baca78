"""One small config dataclass per stage; a run is described by one TOML file (see train/configs/)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from detector.anomaly import GMMConfig
from detector.crop import CropConfig
from detector.manipulate import ManipulationConfig

from .augment import AugmentConfig


@dataclass(frozen=True)
class DataConfig:
    """Where the images are and how real faces are split (by file, hashed, so the split never changes)."""

    real: tuple[str, ...] = ()  # photographic face folders (one face per image)
    exif: tuple[str, ...] = ()  # photos with EXIF tags (every face of every photo)
    fake: dict = field(default_factory=dict)  # generator name -> folder; evaluation only, never training
    cache_dir: str = "cache"
    split: dict = field(default_factory=lambda: {"pretext": 0.6, "gmm": 0.2, "heldout": 0.2})
    exif_split: dict = field(default_factory=lambda: {"pretext": 1.0})
    gmm_from: tuple[str, ...] = ("gmm",)  # which real splits the GMM is fitted on
    # Splits whose scores set the threshold and percentiles. Empty = the GMM's own fit scores (the paper, with
    # 25k faces). With a few thousand faces a 768-d full-covariance mixture scores its own fit set optimistically,
    # so a disjoint calibration split gives an honest 5% false-alarm rate (GMMConfig.calib_folds >= 2 cross-fits
    # it: the calibration faces then also join the fit, each scored by a mixture fitted without its fold).
    calibrate_on: tuple[str, ...] = ()
    split_seed: int = 0
    # Evaluation images - held-out reals and every generator's faces alike - are re-encoded once as JPEG at this
    # quality at the image level before face detection (train.cache.ImagePrep; None: as stored), and each generator
    # is also evaluated with its images rescaled by each of `fake_scales` first (0.5: a 1024 px render seen at
    # 512 px, a 256 px GAN face at 128 px). Training and fitting use the images as stored.
    eval_jpeg: int | None = 90
    fake_scales: tuple[float, ...] = (1.0,)
    backend: str = "dlib"
    exif_min_side: int = 1024  # detection upscaling for EXIF photos (small faces in group photos)
    limit: int | None = None  # images per folder (tests, quick runs)
    workers: int = 2


@dataclass(frozen=True)
class PretextConfig:
    """Self-supervised training (paper: ResNet-50, AdamW wd 1e-4, lr 1e-5 cosine, batch 256, 20 epochs)."""

    backbone: str = "resnet50"
    embed_dim: int = 768
    input_filter: str = "none"  # "none" (paper), "highpass" or "rgb+highpass" (detector.model)
    epochs: int = 20  # 0: no pretext training, the seeded random-init network (what the CPU default ships; see card)
    batch_size: int = 256  # global: split evenly over DDP ranks
    lr: float = 1e-5
    weight_decay: float = 1e-4
    tasks: tuple[str, ...] = ("ranking", "manipulation")
    ties: str = "drop"
    manip_prob: float = 0.5
    seed: int = 0
    workers: int = 4
    amp: bool = True  # bf16 autocast, GPU only
    channels_last: bool = True  # GPU only
    max_steps: int | None = None  # stop early (tests, benchmarks)
    ckpt_every_steps: int | None = None  # extra mid-epoch checkpoints (long CPU epochs)
    log_every: int = 10


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation settings. Matched processing is the model's own: every crop, real or fake, goes through the same
    crop, resize and one JPEG re-encode at crop.jpeg_quality before scoring (detector.crop.finish)."""

    robustness_jpeg: tuple[int, ...] = (95, 75, 50)
    robustness_downscale: tuple[float, ...] = (0.5,)
    ksweep: tuple[int, ...] = (1, 2, 4, 8, 16)
    figures: tuple[str, ...] = ("tsne", "umap")
    figure_points: int = 600  # per class, for the 2-D maps
    reference_points: int = 1000  # real embeddings shipped in the artifact for the app's plots
    references: bool = True  # the protocol's reference rows (train.reference) in results and the card
    seeds: tuple[int, ...] = ()  # other seeds of the pretext network, rebuilt by `train seeds` (the card's spread)


@dataclass(frozen=True)
class BaselineConfig:
    """Supervised real-vs-one-generator baseline (uses fakes for training: it is the comparison, not the method)."""

    backbone: str = "resnet50"
    input_filter: str = "none"  # same choices as the pretext model's, for a like-for-like comparison
    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-4
    weight_decay: float = 1e-4
    train_fraction: float = 0.5  # of the training generator's fakes and of the pretext reals
    train_on: tuple[str, ...] = ("sd21", "stylegan3")  # one model per generator (empty or absent: the first one)
    seed: int = 0


@dataclass(frozen=True)
class AblationConfig:
    """Pretext-task ablation (paper Table III): every row trained the same way, `epochs` each (None: as pretext)."""

    epochs: int | None = None


@dataclass(frozen=True)
class AuthorsConfig:
    """`import` stage: the authors' released checkpoint (train/authors.py); relative to the config file."""

    checkpoint: str = ""


@dataclass(frozen=True)
class RunConfig:
    name: str = "run"
    out_dir: str = "runs"
    data: DataConfig = DataConfig()
    crop: CropConfig = CropConfig()
    manipulation: ManipulationConfig = ManipulationConfig()
    augment: AugmentConfig = AugmentConfig()
    pretext: PretextConfig = PretextConfig()
    gmm: GMMConfig = GMMConfig()
    eval: EvalConfig = EvalConfig()
    baseline: BaselineConfig = BaselineConfig()
    ablation: AblationConfig = AblationConfig()
    authors: AuthorsConfig = AuthorsConfig()
    stages: tuple[str, ...] = ("cache", "pretext", "gmm", "evaluate")

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=list))


def _build(cls, d: dict):
    names = {f.name: f for f in fields(cls)}
    unknown = set(d) - set(names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
    kw = {}
    for k, v in d.items():
        sub = _SECTIONS.get(k) if cls is RunConfig else None
        if sub is not None:
            kw[k] = _build(sub, v)
        elif isinstance(v, list):
            kw[k] = tuple(v)
        else:
            kw[k] = v
    return cls(**kw)


_SECTIONS = {"data": DataConfig, "crop": CropConfig, "manipulation": ManipulationConfig, "augment": AugmentConfig,
             "pretext": PretextConfig,
             "gmm": GMMConfig, "eval": EvalConfig, "baseline": BaselineConfig,
             "ablation": AblationConfig, "authors": AuthorsConfig}


def load_config(path: str | Path) -> RunConfig:
    """Read a TOML run config; relative data paths are taken relative to the config file's folder."""
    path = Path(path)
    d = tomllib.loads(path.read_text())
    base = path.resolve().parent
    data = d.setdefault("data", {})
    for key in ("real", "exif"):
        data[key] = [str((base / p).resolve()) for p in data.get(key, [])]
    data["fake"] = {k: str((base / p).resolve()) for k, p in data.get("fake", {}).items()}
    if d.get("authors", {}).get("checkpoint"):
        d["authors"]["checkpoint"] = str((base / d["authors"]["checkpoint"]).resolve())
    return _build(RunConfig, d)


def save_json(obj, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=2, default=list))
