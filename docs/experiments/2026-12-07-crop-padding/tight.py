"""Does the padding itself get faces flagged? The same faces, their photo cut tighter around them.

Faces of sources whose crops are hardly padded (lfw, webmorph, amfd, photos: 0.3-1.8% of the crop on average) are
cropped again from their photo cut to the face's landmark box widened by `margin` x its size on every side (clipped
to the photo), so that the paper's 1.3x square leaves the cut photo and `detector.crop` pads it by replicating the
border - what a tightly framed photo of the same face gives. The face, its landmarks and everything else stay; the
padded share is exact (detector.crop.padded_share). Scored by the shipped model (its threshold) and by the density
fitted and calibrated without the face's source (train.protocol, as the card's left-out check).

    python docs/experiments/2026-12-07-crop-padding/tight.py      # ~10 min on 2 cores
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from padding import SHIPPED, _finder, recover_landmarks, shipped_features  # noqa: E402
from detector.crop import crop_face, padded_share  # noqa: E402
from detector.imageio import load_image  # noqa: E402
from detector.product import spectral_blocks  # noqa: E402
from train import protocol  # noqa: E402
from train.cache import ImagePrep  # noqa: E402
from train.stages import stage_cache  # noqa: E402

SOURCES = ("lfw", "webmorph", "amfd", "photos")
MARGINS = (None, 0.15, 0.0)  # None: the photo as it is
OUT = ROOT / "runs" / "crop-padding"


def _tight(args) -> list[tuple[np.ndarray, float]]:
    """Worker: one face, its landmarks recovered as padding.py does, then one crop per margin."""
    path, prep, min_side, box, stored, stored_lm = args
    finder = _finder(min_side)
    rgb = ImagePrep(**prep)(load_image(path))
    pts, ok = recover_landmarks(finder, rgb, box, stored, stored_lm)
    if not ok:
        raise RuntimeError(f"{path}: face not reproduced from its box")
    out = []
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    for m in MARGINS:
        if m is None:
            cut, off = rgb, np.zeros(2)
        else:
            dx, dy = m * (x1 - x0), m * (y1 - y0)
            a, b = int(max(0, np.floor(x0 - dx))), int(max(0, np.floor(y0 - dy)))
            cut = rgb[b: int(min(rgb.shape[0], np.ceil(y1 + dy))) + 1, a: int(min(rgb.shape[1], np.ceil(x1 + dx))) + 1]
            off = np.array([a, b])
        c = crop_face(cut, pts - off, SHIPPED.crop)
        out.append((c.image, padded_share(c.square, cut.shape)))
    return out


def main() -> None:
    torch.set_num_threads(2)
    sets = stage_cache(SHIPPED)
    shipped, cfg, widths, feats = shipped_features(SHIPPED)
    spectral = spectral_blocks(cfg.experts())
    data = protocol.density_data(SHIPPED, sets, feats, cfg.calib_folds, 0, widths)
    test = protocol.loso_test_faces(SHIPPED, sets, data, network_trained=False)
    rows = {}
    for source in SOURCES:
        jobs = []
        for fs in test[source]:
            info = json.loads((Path(SHIPPED.data.cache_dir) / fs.key / "files.json").read_text())
            jobs += [(fs.files[f], info["prep"], info["min_side"], fs.boxes[i].tolist(), np.array(fs.crops[i]),
                      fs.landmarks[i]) for i, f in enumerate(fs.file_idx)]
        with ProcessPoolExecutor(2) as ex:
            res = list(tqdm(ex.map(_tight, jobs, chunksize=8), total=len(jobs), desc=f"tight {source}"))
        loso = data.fit_model(cfg, leave_out=source)
        rows[source] = {}
        for j, m in enumerate(MARGINS):
            crops = np.stack([r[j][0] for r in res])
            share = np.array([r[j][1] for r in res])
            z = shipped._features(crops, spectral)
            s_ship, s_loso = shipped.anomaly.score(z), loso.score(z)
            rows[source][str(m)] = {
                "n": len(crops), "padded_share": 100 * float(share.mean()),
                "far_shipped": 100 * float(np.mean(s_ship < shipped.anomaly.threshold())),
                "far_left_out": 100 * float(np.mean(s_loso < loso.threshold()))}
            r = rows[source][str(m)]
            print(f"{source:9s} margin {str(m):5s}: n={r['n']}, padded {r['padded_share']:4.1f}% of the crop, flagged "
                  f"{r['far_shipped']:4.1f}% (shipped model), {r['far_left_out']:4.1f}% ({source} left out)", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tight.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
