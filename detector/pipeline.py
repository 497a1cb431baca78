"""Detector: image -> faces -> crops -> features (embedding [+ spectral profiles]) -> log-likelihood -> verdict."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .artifact import default_model_dir, load_artifact
from .crop import Crop, CropConfig, crop_face, finish, network_input, padded_share
from .errors import NoFaceError
from .faces import Face, get_face_finder
from .imageio import ImageInput, load_image
from .model import FaceNet
from .product import Density, block_widths, spectral_blocks
from .spectrum import spectral_tensors

VERDICT_REAL = "consistent with a camera photo"
VERDICT_FAKE = "flagged as AI-generated"

# Certainty of a verdict, from where the face's score falls among the photographic reference faces (its percentile:
# the share of them scoring as low or lower), relative to the false-alarm rate `far` that sets the threshold:
#   percentile < far / 5            "likely AI-generated"  (at far 5%: fewer than 1 in 100 camera photos score so low)
#   far / 5 <= percentile < 3 far   "uncertain"            (at far 5%: 1-15%; on either side of the threshold)
#   percentile >= 3 far             "likely photographic"  (at far 5%: scores like 85% of camera photos or better)
CERTAIN_FAKE_FACTOR, CERTAIN_REAL_FACTOR = 0.2, 3.0
# Faces narrower than this (detector box, source pixels) reach the model with little detail, and the shipped model
# finds them very likely whatever made them: held-out real photos shrunk until their faces were under 48 px wide were
# flagged at 0.0-0.4%, text-to-image faces of ~50 px at 0-9% (docs/experiments/2026-12-02-small-faces). Such a face
# gets a caution.
SMALL_FACE_PX = 48
# A black-and-white face crop (no pixel's channels differ by more than GREY_TOL levels after the model's JPEG finish;
# on the validation data greyscale crops differ by 0-7 and the most colourless colour crop by 18) is scored against
# colour photographs: greyscale copies of real faces were flagged at 4.5% held out and up to 27.9% for a source the
# mixture never saw (docs/experiments/2026-12-07-calibration-copies). Such a face gets a caution.
GREY_TOL = 12
# Where the face square leaves the photo, the crop is filled in by repeating the photo's edge (detector.crop). Faces
# whose crop is at least this share filled in were flagged at 7.8-9.5% instead of 5%: UTKFace's tightly cut chips
# with UTKFace left out of the fit 9.5%, camera portraits cut tightly around the face 7.8-9.4%
# (docs/experiments/2026-12-07-crop-padding). Such a face gets a caution.
PADDED_SHARE = 0.35
CERTAINTY = ("likely AI-generated", "uncertain", "likely photographic")


def is_greyscale(crop: np.ndarray, cfg: CropConfig = CropConfig(), tol: int = GREY_TOL) -> bool:
    """True when no pixel's channels differ by more than `tol` grey levels in the crop as the network sees it
    (after the JPEG finish, whose colour noise a greyscale photo then carries too)."""
    x = finish(np.asarray(crop), cfg).astype(np.int16)
    return int(np.abs(x - x.mean(axis=2, keepdims=True)).max()) <= tol


def certainty(percentile: float, far: float) -> str:
    """The certainty band of a face at `percentile` (0-100) when the threshold is at false-alarm rate `far` (0-1)."""
    if percentile < 100 * far * CERTAIN_FAKE_FACTOR:
        return CERTAINTY[0]
    return CERTAINTY[1] if percentile < 100 * far * CERTAIN_REAL_FACTOR else CERTAINTY[2]


@dataclass
class FaceScore:
    """Result for one face. `is_fake` means log-likelihood < threshold; `certainty` says how far from the threshold
    the face is (see CERTAINTY); `caution` says why the verdict may be less reliable than its certainty suggests
    (e.g. a face much larger than any the model was calibrated on), or is None."""

    index: int
    box: tuple[float, float, float, float]
    landmarks: np.ndarray = field(repr=False)
    log_likelihood: float
    threshold: float
    percentile: float
    is_fake: bool
    certainty: str = CERTAINTY[1]
    caution: str | None = None

    @property
    def verdict(self) -> str:
        return VERDICT_FAKE if self.is_fake else VERDICT_REAL

    def to_dict(self) -> dict:
        return {"face": self.index, "box": [round(float(v), 1) for v in self.box],
                "landmarks": int(len(self.landmarks)), "log_likelihood": round(self.log_likelihood, 3),
                "threshold": round(self.threshold, 3), "percentile": round(self.percentile, 2),
                "verdict": self.verdict, "certainty": self.certainty, "caution": self.caution,
                "is_fake": self.is_fake}


@dataclass
class Analysis:
    """One image's faces, their crops, embeddings and log-likelihoods (threshold-free, so reusable)."""

    rgb: np.ndarray
    faces: list[Face]
    crops: list[Crop]
    embeddings: np.ndarray
    log_likelihoods: np.ndarray
    greyscale: list[bool]  # per face: is_greyscale(crop), for its caution
    padded: list[float]  # per face: the share of its crop filled in beyond the photo (padded_share), for its caution


class Detector:
    """Loads an artifact folder once; `score` any number of images after that.

    Without an anomaly model it can still find, crop and embed faces (what training needs).
    """

    def __init__(self, model: FaceNet, anomaly: Density | None = None, crop: CropConfig = CropConfig(),
                 backend: str = "dlib", device: str | None = None, batch_size: int = 32,
                 config: dict | None = None) -> None:
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.anomaly = anomaly
        self.crop_cfg = crop
        self.backend = backend
        self.batch_size = batch_size
        self.config = config or {}

    @classmethod
    def load(cls, folder: str | Path | None = None, backend: str | None = None, device: str | None = None) -> "Detector":
        """From an artifact folder (default: $DETECTOR_MODEL or the shipped assets/default)."""
        folder = Path(folder) if folder is not None else default_model_dir()
        model, anomaly, crop, config = load_artifact(folder)
        fitted = config.get("landmarks", "dlib")
        if backend and backend != fitted:
            warnings.warn(f"landmark backend {backend!r} differs from the {fitted!r} landmarks this model's mixture and "
                          "threshold were fitted on: crops shift slightly, so scores and the false-alarm rate are "
                          "not the calibrated ones", stacklevel=2)
        return cls(model, anomaly, crop, backend or fitted, device, config=config)

    def find_faces(self, rgb: np.ndarray) -> list[Face]:
        return get_face_finder(self.backend)(rgb)

    def crop(self, rgb: np.ndarray, faces: list[Face]) -> list[Crop]:
        return [crop_face(rgb, f.landmarks, self.crop_cfg) for f in faces]

    def embed(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """(N, size, size, 3) uint8 crops (as `crop_face` makes them) -> (N, embed_dim) float32 embeddings.

        Prepares them with `network_input` (JPEG finish + normalisation), then runs the network in batches.
        """
        return self._features(crops, ())

    def features(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """What the anomaly model scores: the embedding and the spectral blocks it has experts for
        (detector.spectrum), from the same network input, as columns (N, embed_dim [+ each block's width])."""
        return self._features(crops, spectral_blocks(self.anomaly.experts if self.anomaly is not None else ()))

    @torch.inference_mode()
    def _features(self, crops: list[np.ndarray] | np.ndarray, spectral: tuple[str, ...]) -> np.ndarray:
        out = []
        for i in range(0, len(crops), self.batch_size):
            x = network_input(crops[i : i + self.batch_size], self.crop_cfg).to(self.device)
            z = [self.model.embed(x).float().cpu().numpy()]
            z += [s.float().cpu().numpy() for s in spectral_tensors(x, self.crop_cfg, spectral)]
            out.append(np.concatenate(z, axis=1))
        if out:
            return np.concatenate(out)
        return np.zeros((0, sum(block_widths(self.model.cfg.embed_dim, self.crop_cfg, spectral).values())), np.float32)

    def analyse(self, image: ImageInput) -> Analysis:
        """Everything about an image that does not depend on the threshold (faces, crops, embeddings, scores)."""
        rgb = load_image(image)
        faces = self.find_faces(rgb)
        crops = self.crop(rgb, faces)
        f = self.features([c.image for c in crops])
        scores = self.anomaly.score(f) if (self.anomaly is not None and len(f)) else np.zeros(len(f))
        grey = [is_greyscale(c.image, self.crop_cfg) for c in crops]
        padded = [padded_share(c.square, rgb.shape) for c in crops]
        return Analysis(rgb, faces, crops, f[:, : self.model.cfg.embed_dim], scores, grey, padded)

    def verdicts(self, analysis: Analysis, far: float | None = None) -> list[FaceScore]:
        """Per-face results at the threshold for false-alarm rate `far` (default: the model's)."""
        far = self.anomaly.far if far is None else far
        thr = self.anomaly.threshold(far)
        pct = self.anomaly.percentile(analysis.log_likelihoods)
        rows = zip(analysis.faces, analysis.log_likelihoods, pct, analysis.greyscale, analysis.padded)
        return [FaceScore(i + 1, f.box, f.landmarks, float(s), thr, float(p), bool(s < thr), certainty(p, far),
                          self.caution(f, g, pad))
                for i, (f, s, p, g, pad) in enumerate(rows)]

    def caution(self, face: Face, greyscale: bool = False, padded: float = 0.0) -> str | None:
        """Why a verdict on this face is less reliable: its size (caution_size), then a black-and-white crop
        (`greyscale`: is_greyscale), then a face cut tightly by the photo's frame (`padded`: padded_share, at least
        PADDED_SHARE), both computed once in analyse; the notes joined when several apply."""
        notes = [self.caution_size(face)]
        if greyscale:
            notes.append("this face is black-and-white: the model's photographs are almost all in colour, and "
                         "greyscale photos of some sources it never saw were flagged far more often than 5% (up to "
                         "28%), so a flag says less here")
        if padded >= PADDED_SHARE:
            notes.append(f"this face is cut tightly by the photo's frame: {100 * padded:.0f}% of the square the model "
                         "looks at lies outside the photo and is filled in by repeating its edge, and faces framed "
                         "this tightly were flagged at 8-10% in tests instead of 5%, so a flag says less here")
        return "; ".join(n for n in notes if n) or None

    def caution_size(self, face: Face) -> str | None:
        """A face far outside the sizes the model was calibrated on (`face_width_px` in the artifact's config: the
        1st and 99th percentile of its reference faces' widths), or one narrower than SMALL_FACE_PX, at which
        generated faces are rarely flagged."""
        rng = (self.config.get("reference_ranges") or {}).get("face_width_px")
        width = face.box[2] - face.box[0]
        if rng and width > 2 * rng[1]:
            return (f"this face is {width:.0f} px wide, more than twice the largest faces the model was calibrated on "
                    f"(~{rng[1]:.0f} px): large, sharp faces are rarer among its photographs, so it is less reliable here")
        if rng and width < rng[0] / 2:
            return (f"this face is only {width:.0f} px wide, under half the smallest faces the model was calibrated on "
                    f"(~{rng[0]:.0f} px): little detail is left to judge, so it is less reliable here")
        if width < SMALL_FACE_PX:
            return (f"this face is only {width:.0f} px wide: faces this small look photographic to the model whatever "
                    "made them, so a pass says little here (a flag is rare for photos this small, and counts)")
        return None

    def score(self, image: ImageInput, far: float | None = None, require_face: bool = False) -> list[FaceScore]:
        """Score every face in `image` (path, bytes, PIL image or RGB array).

        Returns [] when no face is found, or raises NoFaceError if `require_face`. Raises ImageReadError /
        ImageTooLargeError for input that is not a readable image.
        """
        analysis = self.analyse(image)
        if require_face and not analysis.faces:
            raise NoFaceError(f"{image if isinstance(image, (str, Path)) else 'image'}: no face found")
        return self.verdicts(analysis, far)
