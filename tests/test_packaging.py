"""`pip wheel .` builds an installable distribution: detector/, train/ (with its configs), the default model, and
the `aigface` console command, which scores a face from the installed files alone."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT),
                    "-w", str(tmp / "dist")], check=True, cwd=tmp, timeout=600)
    (wheel,) = (tmp / "dist").glob("*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp / "site"),
                    str(wheel)], check=True, timeout=600)
    return tmp


def test_wheel_holds_the_library_the_training_package_and_the_model(installed):
    (wheel,) = (installed / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("detector/cli.py", "detector/pipeline.py", "train/stages.py", "train/protocol.py",
              "train/configs/default.toml", "aigface_assets/default/model.safetensors",
              "aigface_assets/default/gmm.npz", "aigface_assets/default/product.json",
              "aigface_assets/default/ripple/gmm.npz", "aigface_assets/MODEL_CARD.md"):
        assert f in names, f
    # every file of the shipped model, whatever experts it has (one subfolder per spectral block)
    shipped = [p.relative_to(ROOT / "assets").as_posix() for p in (ROOT / "assets" / "default").rglob("*") if p.is_file()]
    assert shipped and not [f for f in shipped if f"aigface_assets/{f}" not in names]
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "aigface = detector.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_console_command_scores_with_the_installed_default_model(installed, astronaut_png):
    env = {k: v for k, v in os.environ.items() if k != "DETECTOR_MODEL"}
    env["PYTHONPATH"] = str(installed / "site")
    out = subprocess.run([str(installed / "site" / "bin" / "aigface"), "score", str(astronaut_png), "--json"],
                         cwd=installed, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = json.loads(out.stdout)
    assert len(rows) == 1 and rows[0]["landmarks"] == 68
    # the installed copy was used, not the checkout
    probe = subprocess.run([sys.executable, "-c", "import detector, sys; print(detector.__file__)"], cwd=installed,
                           env=env, capture_output=True, text=True, timeout=120)
    assert str(installed / "site") in probe.stdout
