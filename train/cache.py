"""Face cache: detect faces and landmarks once per image, keep the 224 crops (the exact `detector` crop), their
landmarks in crop coordinates, and the photo's EXIF tags. Training, GMM fitting and evaluation all read it.

One cache folder per (image folder, crop config, landmark backend):
    crops.npy   (N, S, S, 3) uint8, memory-mapped on load
    meta.npz    landmarks (N, 68, 2), file_idx (N,), tags (N, 4) with NaN = missing, boxes (N, 4)
    files.json  the image files (index = file_idx), the ones skipped and why, and the settings
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from detector.crop import CropConfig, crop_face
from detector.errors import DetectorError
from detector.faces import get_face_finder
from detector.imageio import jpeg_roundtrip, load_image

from .exif import tags_for_file

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
# Bump when what a cache holds changes for reasons its key does not show (crop code, landmark handling).
CACHE_VERSION = 2


@dataclass(frozen=True)
class ImagePrep:
    """Processing of a whole image before face detection, for evaluation images: rescale (Pillow bicubic,
    antialiased), then one JPEG re-encode - what an upload chain does to a photo before anyone scores it. The
    identity for training images."""

    scale: float = 1.0
    jpeg: int | None = None

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if self.scale != 1.0:
            h, w = rgb.shape[:2]
            size = (max(1, round(w * self.scale)), max(1, round(h * self.scale)))
            rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC))
        return jpeg_roundtrip(rgb, self.jpeg) if self.jpeg else rgb

    @property
    def is_identity(self) -> bool:
        return self.scale == 1.0 and not self.jpeg


@dataclass
class FaceSet:
    """Cached faces of one image folder."""

    name: str
    key: str  # the cache folder's name: what the crops are (folder, geometry, finder, prep)
    crops: np.ndarray
    landmarks: np.ndarray
    file_idx: np.ndarray
    tags: np.ndarray
    files: list[str]
    skipped: dict[str, str]
    boxes: np.ndarray | None = None  # (N, 4) detector boxes in source pixels (x0, y0, x1, y1)

    def __len__(self) -> int:
        return len(self.crops)

    @property
    def id(self) -> str:
        """Names exactly these faces: the cache they come from and which of its faces (so a split changed in the
        config never reuses features cached for another split)."""
        members = hashlib.sha1(np.ascontiguousarray(self.file_idx, dtype=np.int64).tobytes()).hexdigest()[:8]
        return f"{self.key}-{members}"

    def subset(self, idx: np.ndarray) -> "FaceSet":
        idx = np.asarray(idx, dtype=np.int64)
        return FaceSet(self.name, self.key, self.crops[idx], self.landmarks[idx], self.file_idx[idx], self.tags[idx],
                       self.files, self.skipped, None if self.boxes is None else self.boxes[idx])


def list_images(folder: str | Path, limit: int | None = None) -> list[Path]:
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    return files[:limit] if limit else files


def _process(args: tuple[str, dict, str, str, int, ImagePrep]) -> tuple[str, list, str | None]:
    """Worker: one image -> list of (crop, crop landmarks, box, tags), or a reason it gave nothing."""
    path, crop_dict, backend, faces_mode, min_side, prep = args
    crop_cfg = CropConfig.from_dict(crop_dict)
    try:
        rgb = prep(load_image(path))
        faces = get_face_finder(backend, min_side)(rgb)
    except DetectorError as e:
        return path, [], f"unreadable: {e}"
    if not faces:
        return path, [], "no face"
    if faces_mode == "largest":
        faces = [max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))]
    tags = tags_for_file(path)
    out = []
    for f in faces:
        c = crop_face(rgb, f.landmarks, crop_cfg)
        out.append((c.image, c.landmarks, np.asarray(f.box, np.float32), tags))
    return path, out, None


def cache_key(folder: str | Path, crop: CropConfig, backend: str, faces: str, limit: int | None, min_side: int,
              prep: ImagePrep = ImagePrep()) -> str:
    """Names a cache by everything that changes its crops: the folder, the crop geometry, the face finder and its
    settings, the image prep, and CACHE_VERSION (the JPEG finish and normalisation happen later, so they are out)."""
    geometry = {k: v for k, v in crop.to_dict().items() if k not in ("jpeg_quality", "mean", "std")}
    finder = get_face_finder(backend, min_side).settings()
    h = hashlib.sha1(json.dumps([CACHE_VERSION, str(Path(folder).resolve()), geometry, finder, faces, limit,
                                 asdict(prep)], sort_keys=True).encode()).hexdigest()[:10]
    return f"{Path(folder).name}-{h}"


def build_cache(folder: str | Path, cache_dir: str | Path, crop: CropConfig = CropConfig(), backend: str = "dlib",
                faces: str = "largest", limit: int | None = None, workers: int | None = None,
                min_side: int = 512, prep: ImagePrep = ImagePrep()) -> FaceSet:
    """Detect + crop every image of `folder` once (parallel, progress bar); reuse the cache when present.

    faces="largest" keeps one face per image (face datasets: any other hit is background);
    faces="all" keeps every face (photos of groups, e.g. the EXIF photos).
    min_side: detection upscaling (see detector.faces.get_face_finder); 1024 finds ~40 px faces.
    prep: applied to each image before detection (evaluation images; see ImagePrep).
    """
    out = Path(cache_dir) / cache_key(folder, crop, backend, faces, limit, min_side, prep)
    if (out / "files.json").is_file():
        return load_cache(out)
    files = list_images(folder, limit)
    if not files:
        raise FileNotFoundError(f"no images in {folder}")
    workers = workers or min(os.cpu_count() or 1, 8)
    jobs = [(str(f), crop.to_dict(), backend, faces, min_side, prep) for f in files]
    results = []
    desc = f"faces {Path(folder).name}"
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            results = list(tqdm(ex.map(_process, jobs, chunksize=8), total=len(jobs), desc=desc, unit="img"))
    else:
        results = [_process(j) for j in tqdm(jobs, desc=desc, unit="img")]
    crops, lms, boxes, tags, fidx, skipped = [], [], [], [], [], {}
    for i, (path, items, reason) in enumerate(results):
        if reason:
            skipped[path] = reason
        for img, lm, box, t in items:
            crops.append(img)
            lms.append(lm)
            boxes.append(box)
            tags.append(t)
            fidx.append(i)
    # per-process temporary folder: several processes (DDP ranks) may build the same cache at once
    tmp = out.with_name(f"{out.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    s = crop.size
    np.save(tmp / "crops.npy", np.stack(crops) if crops else np.zeros((0, s, s, 3), np.uint8))
    np.savez(tmp / "meta.npz", landmarks=np.asarray(lms, np.float32).reshape(-1, 68, 2),
             file_idx=np.asarray(fidx, np.int32), tags=np.asarray(tags, np.float64).reshape(-1, 4),
             boxes=np.asarray(boxes, np.float32).reshape(-1, 4))
    (tmp / "files.json").write_text(json.dumps({"folder": str(folder), "files": [str(f) for f in files],
                                                "skipped": skipped, "crop": crop.to_dict(), "backend": backend,
                                                "faces": faces, "min_side": min_side, "prep": asdict(prep),
                                                "finder": get_face_finder(backend, min_side).settings()}, indent=1))
    if out.exists() and not (out / "files.json").is_file():
        shutil.rmtree(out, ignore_errors=True)  # a broken leftover, not another process's finished cache
    try:
        os.rename(tmp, out)  # atomic; fails if another process got there first
    except OSError:
        if not (out / "files.json").is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # identical content, built by another process
    return load_cache(out)


def load_cache(folder: str | Path) -> FaceSet:
    folder = Path(folder)
    info = json.loads((folder / "files.json").read_text())
    with np.load(folder / "meta.npz", allow_pickle=False) as m:
        meta = {k: m[k] for k in m.files}
    crops = np.load(folder / "crops.npy", mmap_mode="r", allow_pickle=False)
    return FaceSet(Path(info["folder"]).name, folder.name, crops, meta["landmarks"], meta["file_idx"], meta["tags"],
                   info["files"], info["skipped"], meta["boxes"])


def file_unit(path: str, salt: str) -> float:
    """A number in [0, 1) fixed by the file's name and a salt: the basis of every by-file split."""
    return int(hashlib.sha1(f"{salt}:{Path(path).name}".encode()).hexdigest()[:12], 16) / 16**12


def split_mask(fs: FaceSet, fractions: dict[str, float], seed: int = 0) -> dict[str, np.ndarray]:
    """Assign each *image file* (so all faces of a photo stay together) to a split by a salted hash of its name.

    Returns {split name: boolean mask over faces}. Deterministic and independent of folder order or size.
    """
    names, cuts = list(fractions), np.cumsum(list(fractions.values()))
    if not np.isclose(cuts[-1], 1.0):
        raise ValueError(f"split fractions must sum to 1, got {dict(fractions)}")
    u = np.array([file_unit(f, str(seed)) for f in fs.files])
    file_split = np.searchsorted(cuts, u, side="right").clip(max=len(names) - 1)
    face_split = file_split[fs.file_idx] if len(fs) else np.zeros(0, int)
    return {n: face_split == i for i, n in enumerate(names)}


def file_folds(fs: FaceSet, k: int, seed: int = 0) -> np.ndarray:
    """A fold id in [0, k) per face, by a hash of its file (salted apart from the split's), for cross-fitting."""
    if k < 2:
        return np.zeros(len(fs), dtype=np.int64)
    per_file = np.array([int(file_unit(f, f"fold:{seed}") * k) for f in fs.files], dtype=np.int64)
    return per_file[fs.file_idx] if len(fs) else np.zeros(0, np.int64)
