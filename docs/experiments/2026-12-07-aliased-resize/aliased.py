"""Photos shrunk without antialiasing (decimation, a bilinear resize that skips the low-pass): are real faces of
unseen sources flagged?

The web's resizers differ. The protocol and the web-chain record (docs/experiments/2026-12-02-web-chain) only used
Pillow's antialiased bicubic; many pipelines (OpenCV's default INTER_LINEAR or INTER_NEAREST, naive thumbnailers,
torch's interpolate without antialias) shrink without a low-pass, folding high frequencies back as aliasing - the
kind of spectral trace the ripple and axis experts look for in generators' up-sampling. Each edit shrinks the whole
photo (before the evaluation's JPEG q90, face finding and the model's crop), as photo_edits.py does for its edits;
each real source is left out of the fit and the threshold as in the protocol; generators get the same edit.

    python docs/experiments/2026-12-07-aliased-resize/aliased.py nearest0.5 bilinear0.6    # ~10 min an edit, 2 cores
    python docs/experiments/2026-12-07-aliased-resize/aliased.py antialiased0.6             # the same size, low-pass
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "docs/experiments/2026-12-06-photo-scale-edits"))

import photo_edits  # noqa: E402
from train.cache import ImagePrep  # noqa: E402
from edits import EDITS  # noqa: E402


def _nearest(step: int):
    """Every `step`-th pixel: pure decimation."""
    return lambda rgb: np.ascontiguousarray(np.asarray(rgb)[::step, ::step])


def _bilinear_no_aa(scale: float):
    """Bilinear interpolation at the output pixels' centres with no low-pass first, as OpenCV's default
    INTER_LINEAR or torch's interpolate(antialias=False) shrink (numpy: the face cache runs edits in forked worker
    processes, where torch's thread pool can deadlock)."""
    def axis(n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_out = max(1, round(n_in * scale))
        src = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
        lo = np.floor(src).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), (src - lo).astype(np.float32)

    def f(rgb: np.ndarray) -> np.ndarray:
        x = np.asarray(rgb, np.float32)
        (y0, y1, wy), (x0, x1, wx) = axis(x.shape[0]), axis(x.shape[1])
        rows = x[y0] * (1 - wy)[:, None, None] + x[y1] * wy[:, None, None]
        out = rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return f


NEW = {"nearest0.5": _nearest(2),                        # every other pixel: pure decimation
       "bilinear0.6": _bilinear_no_aa(0.6),                # OpenCV-style INTER_LINEAR at a non-integer factor
       "antialiased0.6": ImagePrep(scale=0.6)}             # the same size, the protocol's antialiased bicubic

if __name__ == "__main__":
    EDITS.update(NEW)
    photo_edits.OUT = ROOT / "runs" / "aliased-resize"
    photo_edits.main()
