"""App latency on CPU, measured in one run: cold start (process start -> first /score answer), then per-request
latency of /score and /detect (with explanation maps) through gradio_client vs Detector.score alone.
Targets: cold start <= 15 s; /score per face <= 1.5x Detector.score.

    python -m benchmarks.app_latency [--model DIR] [--repeats 10]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    model = args.model
    if model is None:
        from detector.artifact import default_model_dir

        if (default_model_dir() / "config.json").is_file():
            model = str(default_model_dir())
        else:
            from tests.tiny_artifact import build_tiny_artifact

            model = str(build_tiny_artifact(Path(tmp) / "model"))
    from PIL import Image
    from skimage import data

    img = Path(tmp) / "astronaut.png"
    Image.fromarray(data.astronaut()).save(img)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--model", model, "--port", str(port)], cwd=ROOT,
                            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from gradio_client import Client, handle_file

        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t0 > 300:
                    raise RuntimeError("app did not start")
                time.sleep(0.2)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict(handle_file(str(img)), 0.05, api_name="/score")
        cold = time.perf_counter() - t0

        def timed(fn) -> float:
            fn()
            ts = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t)
            return 1000 * statistics.median(ts)

        from detector import Detector

        det = Detector.load(model, device="cpu")
        t_lib = timed(lambda: det.score(img))
        t_score = timed(lambda: client.predict(handle_file(str(img)), 0.05, api_name="/score"))
        t_detect = timed(lambda: client.predict(handle_file(str(img)), 0.05, api_name="/detect"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"model: {model}; 512x512 PNG with one face; CPU")
    print(f"cold start to first /score answer: {cold:8.1f} s   (target <= 15 s)")
    print(f"Detector.score in-process:          {t_lib:8.1f} ms")
    print(f"/score via gradio_client:           {t_score:8.1f} ms   ratio {t_score / t_lib:.2f} (target <= 1.5)")
    print(f"/detect via gradio_client:          {t_detect:8.1f} ms   ratio {t_detect / t_lib:.2f} "
          "(adds explanation maps, boxes, plot)")


if __name__ == "__main__":
    main()
