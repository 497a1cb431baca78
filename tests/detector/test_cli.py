import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from detector.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(args, capsys):
    rc = main(["score", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_text_output_for_a_face(tiny_model_dir, astronaut_png, capsys):
    rc, out, _ = run_cli([astronaut_png, "--model", tiny_model_dir], capsys)
    assert rc == 0
    assert out.count("face 1:") == 1 and "landmarks=68" in out and "threshold=" in out and "->" in out


def test_json_and_csv(tiny_model_dir, astronaut_png, no_face_png, capsys):
    rc, out, _ = run_cli([astronaut_png, no_face_png, "--model", tiny_model_dir, "--json", "--far", "0.1"], capsys)
    rows = json.loads(out)
    assert rc == 0 and [r["face"] for r in rows] == [1, 0]
    assert rows[0]["landmarks"] == 68 and rows[1]["verdict"] == "no face found"
    rc, out, _ = run_cli([astronaut_png, "--model", tiny_model_dir, "--csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    from detector import Detector

    expected = Detector.load(tiny_model_dir).score(astronaut_png)[0].log_likelihood
    assert rc == 0 and len(rows) == 1 and float(rows[0]["log_likelihood"]) == pytest.approx(expected, abs=1e-3)
    assert rows[0]["landmarks"] == "68" and rows[0]["verdict"]


def test_bad_files_are_reported_and_the_batch_goes_on(tiny_model_dir, astronaut_png, bad_files, capsys):
    rc, out, err = run_cli([*bad_files.values(), astronaut_png, "--model", tiny_model_dir], capsys)
    assert rc == 0
    assert out.count("unreadable") == 3 and "face 1:" in out
    assert all(len(line) < 300 for line in err.splitlines())  # one line each, no traceback
    assert "Traceback" not in err


def test_nothing_readable_exits_nonzero(tiny_model_dir, bad_files, capsys):
    rc, _, err = run_cli([*bad_files.values(), "--model", tiny_model_dir], capsys)
    assert rc == 1 and err.count("error:") == 3


def test_folder_recursion(tiny_model_dir, astronaut_png, tmp_path, capsys):
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (sub / "x.png").write_bytes(astronaut_png.read_bytes())
    (sub / "readme.txt").write_text("skip me")
    rc, out, _ = run_cli([tmp_path, "--model", tiny_model_dir, "--json"], capsys)
    assert rc == 0 and len(json.loads(out)) == 1


def test_subprocess_without_model_explains(tmp_path, astronaut_png):
    env = {**os.environ, "DETECTOR_MODEL": str(tmp_path / "none")}
    p = subprocess.run([sys.executable, "-m", "detector", "score", str(astronaut_png)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "no model artifact" in p.stderr and "python -m train" in p.stderr


def test_shipped_default_model_scores_without_model_argument(astronaut_png):
    """A fresh clone: `python -m detector score` with no --model and no DETECTOR_MODEL uses assets/default."""
    env = {k: v for k, v in os.environ.items() if k != "DETECTOR_MODEL"}
    p = subprocess.run([sys.executable, "-m", "detector", "score", str(astronaut_png), "--json"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert len(rows) == 1 and rows[0]["verdict"] in ("consistent with a camera photo", "flagged as AI-generated")
