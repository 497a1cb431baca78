"""Per-face CPU latency of Detector.score (decode + detect + landmarks + crop + embed + spectrum + GMMs) vs the bare
backbone forward on the same crop, measured in one run. Target: ratio <= 1.25.

    python -m benchmarks.score_latency [--model DIR] [--repeats 20] [--threads N]

Without --model it uses the shipped default, or (if none) a random-init ResNet-50 artifact built on the fly
(latency does not depend on the weights' values).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image
from skimage import data


from detector import Detector, ModelNotFoundError, to_tensor


def _interleaved_ms(fns, repeats: int) -> list[float]:
    """Median ms of each function, timed alternately so both see the same machine state (CPU clocks drift)."""
    for fn in fns:
        fn()  # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [1000 * statistics.median(ts) for ts in times]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = tempfile.TemporaryDirectory()
    try:
        det = Detector.load(args.model, device="cpu")
        source = args.model or "default model"
    except ModelNotFoundError:
        from tests.tiny_artifact import build_tiny_artifact

        det = Detector.load(build_tiny_artifact(tmp.name, backbone="resnet50"), device="cpu")
        source = "random-init resnet50 artifact"
    path = Path(tmp.name) / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)  # 512x512 PNG, one face
    rgb = data.astronaut()
    crop = det.crop(rgb, det.find_faces(rgb))[0].image
    x = to_tensor([crop], det.crop_cfg)

    @torch.inference_mode()
    def bare() -> None:
        det.model.embed(x)

    def full() -> None:
        assert len(det.score(path)) == 1

    t_bare, t_full = _interleaved_ms([bare, full], args.repeats)
    print(f"model: {source} ({det.model.cfg.backbone}), torch threads: {torch.get_num_threads()}, device: cpu")
    print(f"bare backbone forward (1 crop):      {t_bare:8.1f} ms")
    print(f"Detector.score end-to-end (1 face):  {t_full:8.1f} ms")
    print(f"ratio end-to-end / bare forward:     {t_full / t_bare:8.3f}  (target <= 1.25)")


if __name__ == "__main__":
    main()
