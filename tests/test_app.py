"""The Gradio app, served for real in a subprocess: gradio_client API calls, concurrency, bad uploads, and a
browser test in Debian's Chromium driven by Playwright."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serve(model_args: list[str], log: Path):
    """Run app.py in a subprocess for the duration of the `with` block; yields (URL, process). The process is
    stopped however the block ends (an exception, a failed assertion, a closed generator)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DETECTOR_MODEL"}
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    with open(log, "w") as fp:
        proc = subprocess.Popen([sys.executable, "app.py", *model_args, "--port", str(port)],
                                cwd=ROOT, env=env, stdout=fp, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited: {log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("app did not start")
        yield f"http://127.0.0.1:{port}/", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def app_url(tiny_model_dir, tmp_path_factory):
    with _serve(["--model", str(tiny_model_dir)], tmp_path_factory.mktemp("app") / "app.log") as (url, _):
        yield url


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def test_score_endpoint(client, astronaut_png):
    from gradio_client import handle_file

    r = client.predict(handle_file(str(astronaut_png)), 0.05, api_name="/score")
    assert len(r["faces"]) == 1
    f = r["faces"][0]
    assert f["landmarks"] == 68 and f["verdict"] in ("consistent with a camera photo", "flagged as AI-generated")


def test_shipped_default_model_is_used_without_model_argument(astronaut_png, tmp_path):
    """A fresh clone: no --model, no DETECTOR_MODEL, no network; the app answers with the model in assets/default."""
    from gradio_client import Client, handle_file

    with _serve([], tmp_path / "app.log") as (url, proc):
        r = Client(url, verbose=False).predict(handle_file(str(astronaut_png)), 0.05, api_name="/score")
    assert proc.poll() is not None, "the app process outlived its test"
    assert len(r["faces"]) == 1 and r["faces"][0]["landmarks"] == 68
    shipped = json.loads((ROOT / "assets" / "default" / "eval_summary.json").read_text())
    from detector.product import load_density

    shipped_threshold = load_density(ROOT / "assets" / "default").threshold(0.05)
    assert r["faces"][0]["threshold"] == pytest.approx(shipped_threshold, abs=1e-3) and shipped["n_heldout"] >= 500


def test_twenty_concurrent_requests_are_all_answered(client, app_url, astronaut_png):
    from gradio_client import Client, handle_file

    def one(i):
        c = Client(app_url, verbose=False)
        return c.predict(handle_file(str(astronaut_png)), 0.05, api_name="/score")

    with ThreadPoolExecutor(20) as ex:
        results = list(ex.map(one, range(20)))
    assert len(results) == 20 and all(len(r["faces"]) == 1 for r in results)
    lls = {r["faces"][0]["log_likelihood"] for r in results}
    assert len(lls) == 1  # same image, same answer under concurrency


@pytest.fixture(scope="module")
def deep_astronauts(tmp_path_factory) -> dict[str, Path]:
    """The astronaut as a 16-bit greyscale PNG and a float32 TIFF: formats a generic 8-bit decode gets wrong."""
    import numpy as np
    from PIL import Image
    from skimage import data

    d = tmp_path_factory.mktemp("deep")
    grey = np.asarray(Image.fromarray(data.astronaut()).convert("L"))
    Image.fromarray(grey.astype(np.uint16) * 257).save(d / "astronaut16.png")
    Image.fromarray(grey.astype(np.float32) / 255, mode="F").save(d / "astronaut_float.tif")
    return {"png16": d / "astronaut16.png", "tiff32f": d / "astronaut_float.tif"}


def test_score_reads_uploads_with_detectors_loader(client, deep_astronauts, tiny_model_dir, capsys):
    """/score hands the uploaded file to detector's loader, so it finds the face wherever the CLI does."""
    from gradio_client import handle_file

    from detector.cli import main as cli

    for name, path in deep_astronauts.items():
        r = client.predict(handle_file(str(path)), 0.05, api_name="/score")
        assert len(r["faces"]) == 1, (name, r)
        assert cli(["score", str(path), "--json", "--model", str(tiny_model_dir)]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [row["face"] for row in rows] == [1], name  # the CLI finds the same one face
        assert rows[0]["log_likelihood"] == pytest.approx(r["faces"][0]["log_likelihood"], abs=1e-3)


def test_bad_uploads_give_messages_and_the_server_goes_on(client, bad_files, no_face_png, astronaut_png):
    from gradio_client import handle_file

    for name, path in bad_files.items():
        r = client.predict(handle_file(str(path)), 0.05, api_name="/score")
        assert "error" in r and "Cannot read this image" in r["error"], (name, r)
        assert path.name in r["error"]
    r = client.predict(handle_file(str(no_face_png)), 0.05, api_name="/score")
    assert r["faces"] == [] and "No face found" in r["message"]
    out = client.predict(handle_file(str(bad_files["truncated"])), 0.05, api_name="/detect")
    assert "Cannot read this image" in out[4]
    assert len(client.predict(handle_file(str(astronaut_png)), 0.05, api_name="/score")["faces"]) == 1


def test_other_endpoints(client, astronaut_png, no_face_png):
    from gradio_client import handle_file

    img, masks, images, table, msg = client.predict(None, 1.0, 0.03, 0, api_name="/manipulations")
    assert [row[0] for row in table["data"]] == ["original", "eye_flip", "mouth_flip_h", "mouth_flip_v",
                                                  "piecewise_affine"]
    assert len(masks) == 4 and len(images) == 5
    table, csv_path, msg = client.predict([handle_file(str(astronaut_png)), handle_file(str(no_face_png))], 0.05,
                                          api_name="/batch")
    assert len(table["data"]) == 2 and Path(csv_path).read_text().startswith("file,face,box")
    assert "5.0% false alarms" in msg  # the rate the Batch tab used, stated
    fig, note = client.predict("tsne", api_name="/embedding")
    assert fig is not None and "Detect a face first" in note


def test_batch_rows_name_the_uploaded_file_and_the_reason(client, bad_files, astronaut_png):
    from gradio_client import handle_file

    files = [astronaut_png, bad_files["truncated"], bad_files["text"]]
    table, csv_path, msg = client.predict([handle_file(str(f)) for f in files], 0.2, api_name="/batch")
    rows = table["data"]
    assert [r[0] for r in rows] == [f.name for f in files]
    for r in rows[1:]:
        assert "cannot" in r[2].lower() or "not" in r[2].lower(), r
        assert "/tmp" not in r[2] and "gradio" not in r[2], r  # no server path
    assert rows[0][3] in ("likely photographic", "uncertain", "likely AI-generated")
    csv_text = Path(csv_path).read_text()
    assert "/tmp" not in csv_text and all(f.name in csv_text for f in files)
    assert "20.0% false alarms" in msg


def test_browser_upload_verdict_certainty_and_no_stale_outputs(app_url, astronaut_png, no_face_png, bad_files,
                                                                tmp_path):
    """Real Chromium at 1366 px: an upload runs the model by itself and shows a verdict with its certainty, the map
    at a fixed size beside the crop and the score plot (checked on a screenshot); a new upload (no face) and a bad
    file replace every output of the previous image."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("Debian's chromium is not installed")
    import numpy as np
    from PIL import Image
    from playwright.sync_api import sync_playwright

    def upload(page, path, text):
        page.locator("input[type=file]").first.set_input_files(str(path))
        page.wait_for_function(f"document.querySelector('#detect-message')?.innerText.includes({text!r})",
                               timeout=120_000)

    def outputs(page):
        return {"maps": page.locator("#detect-explain img").count(), "plot": page.locator("#detect-plot img").count(),
                "faces image": page.locator("#detect-faces img").count(),
                "table": page.locator("#detect-table tbody").inner_text().strip()}

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 1700})
            page.goto(app_url, wait_until="domcontentloaded", timeout=60_000)
            page.get_by_role("button", name="Detect", exact=True).wait_for(timeout=60_000)

            upload(page, astronaut_png, "face(s)")  # no click: the upload runs the model
            assert "1 face(s)" in page.locator("#detect-message").inner_text()
            table = page.locator("#detect-table").inner_text()
            assert any(b in table for b in ("likely photographic", "uncertain", "likely AI-generated")), table
            assert any(v in table for v in ("consistent with a camera photo", "flagged as AI-generated")), table
            shot = tmp_path / "detect.png"
            page.screenshot(path=str(shot), full_page=True)
            crop, heat = [page.locator("#detect-explain img").nth(i).bounding_box() for i in range(2)]
            assert 150 <= heat["width"] <= 420 and abs(heat["width"] - heat["height"]) < 4, heat  # fixed, square
            assert abs(crop["y"] - heat["y"]) < 2 and crop["x"] < heat["x"]  # beside the face crop
            plot = page.locator("#detect-plot img").bounding_box()
            assert 400 <= plot["width"] <= 700, plot
            pix = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
            region = pix[int(plot["y"]):int(plot["y"] + plot["height"]), int(plot["x"]):int(plot["x"] + plot["width"])]
            assert (region < 200).mean() > 0.01, "the score plot is blank in the screenshot"
            maps = pix[int(heat["y"]):int(heat["y"] + heat["height"]), int(heat["x"]):int(heat["x"] + heat["width"])]
            assert maps.std() > 10, "the explanation map is blank in the screenshot"
            assert outputs(page)["faces image"] == 1

            upload(page, no_face_png, "No face found")  # a new image: nothing of the astronaut remains
            assert outputs(page) == {"maps": 0, "plot": 0, "faces image": 0, "table": ""}

            upload(page, astronaut_png, "face(s)")
            upload(page, bad_files["text"], "Cannot read this image")  # a bad file clears the old results
            assert outputs(page) == {"maps": 0, "plot": 0, "faces image": 0, "table": ""}
        finally:
            browser.close()


def test_score_plot_scales_to_the_bulk_and_pins_outlying_faces():
    """A few reference outliers (-6000 against a bulk of 1500..2700) must not squeeze the plot into a corner; a face
    far outside is pinned at the edge with its value."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import app

    ref = np.sort(np.r_[np.linspace(1500, 2700, 990), np.full(10, -6000.0)])
    lo, hi = app.plot_range(ref, 1600.0, [2000.0, -5000.0])
    assert -200 < lo < 1500 and 2700 < hi < 3000
    fig = app.score_plot(ref, 1600.0, [2000.0, -5000.0], [False, True])
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "1" in labels and "2 (-5000)" in labels
