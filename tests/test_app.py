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
    from detector.anomaly import AnomalyModel

    shipped_threshold = AnomalyModel.load(ROOT / "assets" / "default").threshold(0.05)
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
    fig, note = client.predict("tsne", api_name="/embedding")
    assert fig is not None and "Detect a face first" in note


def test_browser_upload_shows_verdict_and_plot(app_url, astronaut_png):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1400})
        page.goto(app_url, wait_until="domcontentloaded", timeout=60_000)
        detect = page.get_by_role("button", name="Detect", exact=True)
        detect.wait_for(timeout=60_000)
        page.locator("input[type=file]").first.set_input_files(str(astronaut_png))
        page.locator("#component-0 img, [data-testid='image'] img").first.wait_for(timeout=30_000)
        detect.click()
        page.wait_for_function("document.querySelector('#detect-message')?.innerText.includes('face(s)')",
                               timeout=120_000)
        message = page.locator("#detect-message").inner_text()
        assert "1 face(s)" in message
        table = page.locator("#detect-table").inner_text()
        assert "consistent with a camera photo" in table or "flagged as AI-generated" in table
        assert page.locator("#detect-plot img, #detect-plot svg, #detect-plot canvas").count() >= 1
        browser.close()
