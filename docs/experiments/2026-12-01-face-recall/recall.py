"""Face recall of dlib HOG operating points on close-up portraits, and what each point adds on face-free images.

    python docs/experiments/2026-12-01-face-recall/recall.py

Recall: share of images with at least one face, per folder (every t2i tile holds one clear face; every real face
set one face per image). False detections: detections on images that hold no face (skimage's face-free sample
images, and tiles cut from the EXIF "camera" photos away from every face that the strictest point finds there),
counted per image.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

import dlib  # noqa: E402

from detector.imageio import load_image  # noqa: E402

DET = dlib.get_frontal_face_detector()


def detect(rgb: np.ndarray, min_score: float, pad: float, min_side: int = 512, max_side: int = 1280) -> list:
    grey = Image.fromarray(rgb).convert("L")
    w, h = grey.size
    long_side = max(w, h)
    s = min_side / long_side if long_side < min_side else (max_side / long_side if long_side > max_side else 1.0)
    if s != 1.0:
        grey = grey.resize((round(w * s), round(h * s)), Image.BILINEAR)
    a = np.asarray(grey)
    p = int(round(pad * max(a.shape)))
    if p:
        a = np.pad(a, p, mode="edge")
    rects, scores, _ = DET.run(a, 0, min_score)
    if HITS is not None:
        for r in rects:
            crop = a[max(0, r.top()):r.bottom(), max(0, r.left()):r.right()]
            if crop.size:
                Image.fromarray(crop).save(HITS / f"{len(list(HITS.iterdir())):04d}.png")
    return list(scores)


HITS = None  # a folder to save the detections on face-free images in (for checking them by eye)


CNN = dlib.cnn_face_detection_model_v1(str(ROOT / ".venv/lib/python3.11/site-packages/face_recognition_models/models/"
                                           "mmod_human_face_detector.dat")) if (ROOT / ".venv").is_dir() else None


def detect_fallback(rgb: np.ndarray, min_score: float, cnn_side: int, min_conf: float) -> list:
    """HOG as above; only where it finds nothing, dlib's CNN (MMOD) detector on the image at cnn_side px."""
    hits = detect(rgb, min_score, 0.0)
    if hits:
        return hits
    h, w = rgb.shape[:2]
    s = min(1.0, cnn_side / max(h, w))
    small = np.asarray(Image.fromarray(rgb).resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR))
    if min(small.shape[:2]) < 64:  # smaller than the CNN's receptive field
        return []
    found = [d.confidence for d in CNN(small, 0) if d.confidence >= min_conf]
    if HITS is not None:
        for d in CNN(small, 0):
            if d.confidence >= min_conf:
                r = d.rect
                crop = small[max(0, r.top()):r.bottom(), max(0, r.left()):r.right()]
                if crop.size:
                    Image.fromarray(crop).save(HITS / f"{len(list(HITS.iterdir())):04d}.png")
    return found


FALLBACK = [(0.25, 256, 0.0), (0.25, 256, 0.5)]
POINTS = [(0.25, 0.0), (0.0, 0.0), (-0.3, 0.0), (0.25, 0.25), (0.0, 0.25), (-0.3, 0.25), (0.25, 0.5)]


def images(folder: Path, limit: int | None = None) -> list[np.ndarray]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return [load_image(f) for f in files[:limit]]


def face_free() -> list[np.ndarray]:
    from skimage import data

    names = ["coffee", "chelsea", "rocket", "horse", "hubble_deep_field", "immunohistochemistry", "moon", "page",
             "text", "camera", "coins", "logo", "motorcycle_left", "brick", "grass", "gravel", "cat", "retina"]
    out = []
    for n in names:
        try:
            img = getattr(data, n)()
        except Exception:
            continue
        if img.dtype != np.uint8:
            img = img.astype(float)
            img = (255 * (img - img.min()) / max(1e-9, np.ptp(img))).astype(np.uint8)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, 2)
        out.append(img[..., :3])
    return out


def main() -> None:
    global HITS
    sets = {g.name: images(g) for g in sorted((DATA / "fake" / "t2i").iterdir()) if g.is_dir()}
    sets["real/lfw (200)"] = images(DATA / "real" / "lfw", 200)
    sets["real/webmorph"] = images(DATA / "real" / "webmorph")
    sets["fake/sd21 (200)"] = images(DATA / "fake" / "sd21", 200)
    free = face_free()
    # scenes without a face: the EXIF "camera" photos in which no operating point below finds one at min_score 0.8
    # and whose hits (if any) at the chosen point are checked by eye (saved to /tmp/recall_hits)
    scenes_loose = [im for im in images(DATA / "exif" / "camera") if not detect(im, 0.8, 0.0)]
    print(f"face-free images: {len(free)} skimage; exif/camera: {len(scenes_loose)} with no face at min_score 0.8")
    free = free + scenes_loose
    for ms, pad in POINTS if "--fallback-only" not in sys.argv else []:
        t = time.time()
        rec = {k: np.mean([len(detect(im, ms, pad)) > 0 for im in v]) for k, v in sets.items()}
        t2i = np.mean([len(detect(im, ms, pad)) > 0 for k, v in sets.items() if k.isupper() or "_" in k and "/" not in k
                       for im in v])
        global HITS
        HITS = Path(f"/tmp/recall_hits/{ms:+.2f}_{pad:.2f}")
        HITS.mkdir(parents=True, exist_ok=True)
        fp = sum(len(detect(im, ms, pad)) for im in free)
        HITS = None
        print(f"min_score {ms:+.2f} pad {pad:.2f}: t2i recall {100 * t2i:.1f}% | "
              + " ".join(f"{k} {100 * r:.0f}" for k, r in rec.items())
              + f" | false detections {fp} on {len(free)} face-free | {time.time() - t:.0f}s", flush=True)
    for ms, side, conf in FALLBACK:
        t = time.time()
        rec = {k: np.mean([len(detect_fallback(im, ms, side, conf)) > 0 for im in v]) for k, v in sets.items()}
        t2i = np.mean([len(detect_fallback(im, ms, side, conf)) > 0 for k, v in sets.items()
                       if k.isupper() or "_" in k and "/" not in k for im in v])
        HITS = Path(f"/tmp/recall_hits/cnn{side}_{conf}")
        HITS.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        fp = sum(len(detect_fallback(im, ms, side, conf)) for im in free)
        per_free = (time.time() - t0) / len(free)
        HITS = None
        print(f"HOG {ms:+.2f} + CNN fallback at {side} px (conf >= {conf}): t2i recall {100 * t2i:.1f}% | "
              + " ".join(f"{k} {100 * r:.0f}" for k, r in rec.items())
              + f" | false detections {fp} on {len(free)} face-free ({per_free:.2f} s per face-free image) | "
              f"{time.time() - t:.0f}s", flush=True)


if __name__ == "__main__":
    main()
