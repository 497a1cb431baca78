"""Find faces and their 68 iBUG landmarks.

Two backends give the same 68-point layout, so everything downstream (crop, manipulations) only ever sees
landmarks:
- "dlib" (default, offline): HOG face detector, dlib's CNN (MMOD) detector where HOG finds nothing (close-up and
  3/4-view portraits), and the 68-point shape predictor, all from `face-recognition-models`.
- "fan" (optional, the paper's choice): the `face-alignment` package; it downloads its weights on first use,
  so it works only where they are already cached. Otherwise a BackendUnavailableError says so.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
from PIL import Image

from .errors import BackendUnavailableError


@dataclass(frozen=True)
class Face:
    """One detected face in image pixel coordinates: (x0, y0, x1, y1) box and (68, 2) landmarks as (x, y)."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray


class FaceFinder(Protocol):
    name: str

    def __call__(self, rgb: np.ndarray) -> list[Face]: ...

    def settings(self) -> dict:
        """Everything that changes which faces are found and where (part of the training cache's key)."""
        ...


def _detection_scale(h: int, w: int, min_side: int = 512, max_side: int = 1280) -> float:
    """Scale at which to run the detector: HOG misses faces under ~80 px, and is slow on huge photos."""
    long_side = max(h, w)
    if long_side < min_side:
        return min_side / long_side
    if long_side > max_side:
        return max_side / long_side
    return 1.0


def _model_path(name: str) -> str:
    """A model file shipped in `face-recognition-models`, found without importing it (its __init__ needs
    pkg_resources, which recent setuptools no longer has)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailableError("dlib backend needs `pip install face-recognition-models==0.3.0`")
    path = os.path.join(list(spec.submodule_search_locations)[0], "models", name)
    if not os.path.exists(path):
        raise BackendUnavailableError(f"dlib model file missing at {path}")
    return path


class DlibFaceFinder:
    """HOG detector run at a normalised scale, 68-point predictor run at full resolution.

    Detections scoring below `min_score` are dropped: dlib's default (0) lets through weak hits on textures
    (seen on a JPEG of the astronaut's badge at 0.11 while the face scores 1.5), and a non-face scored as a
    face is a worse answer than "no face found".

    Where HOG finds nothing, dlib's CNN detector runs on the image at `cnn_side` px (long side): HOG misses a third
    of close-up generated portraits (3/4 views, sunglasses), the CNN finds nearly all of them, and at 256 px it
    costs ~0.5 s on 2 cores (4.6 s at 1024 px), paid only by images HOG found no face in.
    docs/experiments/2026-12-01-face-recall has the recall and false detections of each operating point.
    """

    name = "dlib"

    def __init__(self, upsample: int = 0, min_score: float = 0.25, min_side: int = 512, max_side: int = 1280,
                 cnn_side: int | None = 256, cnn_min_confidence: float = 0.0) -> None:
        try:
            import dlib
        except ImportError as e:  # pragma: no cover - dlib-bin is a hard requirement
            raise BackendUnavailableError("dlib backend needs `pip install dlib-bin`") from e
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(_model_path("shape_predictor_68_face_landmarks.dat"))
        self._cnn = dlib.cnn_face_detection_model_v1(_model_path("mmod_human_face_detector.dat")) if cnn_side else None
        self._upsample = upsample
        self._min_score = min_score
        self._sides = (min_side, max_side)
        self._cnn_side = cnn_side
        self._cnn_min_confidence = cnn_min_confidence

    def settings(self) -> dict:
        return {"backend": self.name, "upsample": self._upsample, "min_score": self._min_score,
                "sides": list(self._sides), "cnn_side": self._cnn_side, "cnn_min_confidence": self._cnn_min_confidence}

    def _hog(self, rgb: np.ndarray) -> tuple[list, float]:
        h, w = rgb.shape[:2]
        s = _detection_scale(h, w, *self._sides)
        # HOG runs on greyscale: ~25% faster than on RGB at the same detections
        grey = Image.fromarray(rgb).convert("L")
        if s != 1.0:
            grey = grey.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
        rects, _, _ = self._detector.run(np.asarray(grey), self._upsample, self._min_score)
        return list(rects), s

    def _cnn_rects(self, rgb: np.ndarray) -> tuple[list, float]:
        h, w = rgb.shape[:2]
        s = self._cnn_side / max(h, w)
        small = np.asarray(Image.fromarray(rgb).resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR))
        if min(small.shape[:2]) < 64:  # narrower than the CNN's smallest face window: nothing to find
            return [], s
        return [d.rect for d in self._cnn(small, 0) if d.confidence >= self._cnn_min_confidence], s

    def __call__(self, rgb: np.ndarray) -> list[Face]:
        rects, s = self._hog(rgb)
        if not rects and self._cnn is not None:
            rects, s = self._cnn_rects(rgb)
        faces = []
        for r in rects:
            x0, y0, x1, y1 = r.left() / s, r.top() / s, r.right() / s, r.bottom() / s
            rect = self._dlib.rectangle(int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)))
            shape = self._predictor(rgb, rect)
            pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)
            faces.append(Face(box=(x0, y0, x1, y1), landmarks=pts))
        faces.sort(key=lambda f: (f.box[0], f.box[1]))  # stable left-to-right numbering
        return faces


class FanFaceFinder:
    """face-alignment's FAN (2D, 68 points) with its SFD detector; the paper's landmark model."""

    name = "fan"

    def __init__(self, device: str = "cpu") -> None:
        try:
            import face_alignment
        except ImportError as e:
            raise BackendUnavailableError("fan backend needs `pip install face-alignment`") from e
        try:
            self._fa = face_alignment.FaceAlignment(face_alignment.LandmarksType.TWO_D, device=device)
        except Exception as e:  # its constructor downloads weights; offline this fails in several ways
            raise BackendUnavailableError(
                f"fan backend could not load its weights ({type(e).__name__}: {e}); they are downloaded on "
                "first use, so run it once with network access or use the default 'dlib' backend"
            ) from e

    def settings(self) -> dict:
        return {"backend": self.name}

    def __call__(self, rgb: np.ndarray) -> list[Face]:
        result = self._fa.get_landmarks_from_image(rgb, return_bboxes=True)
        landmarks, _, boxes = result if isinstance(result, tuple) else (result, None, None)
        faces = []
        for i, pts in enumerate(landmarks or []):
            pts = np.asarray(pts, dtype=np.float32)[:, :2]
            box = tuple(float(v) for v in boxes[i][:4]) if boxes is not None else landmark_box(pts)
            faces.append(Face(box=box, landmarks=pts))
        faces.sort(key=lambda f: (f.box[0], f.box[1]))
        return faces


def landmark_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


@lru_cache(maxsize=8)
def get_face_finder(backend: str = "dlib", min_side: int = 512) -> FaceFinder:
    """One finder per backend and setting, per process (loading the predictor takes ~1 s).

    min_side: images smaller than this are upscaled for detection (dlib finds faces down to ~80/min_side of
    the image side); raise it to find small faces in group photos, at a quadratic cost in time.
    """
    if backend == "dlib":
        return DlibFaceFinder(min_side=min_side, max_side=max(1280, min_side))
    if backend == "fan":
        return FanFaceFinder()
    raise BackendUnavailableError(f"unknown landmark backend {backend!r}; use 'dlib' or 'fan'")
