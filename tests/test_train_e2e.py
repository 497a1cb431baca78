"""A tiny end-to-end training run on images the test makes itself (astronaut variants with EXIF)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from skimage import data

from detector import Detector, manipulate
from detector.crop import crop_face
from detector.faces import get_face_finder


def _variant(rng: np.random.Generator) -> Image.Image:
    img = Image.fromarray(data.astronaut())
    s = rng.uniform(0.8, 1.2)
    img = img.resize((int(512 * s), int(512 * s)), Image.BICUBIC)
    dx, dy = rng.integers(0, 40, size=2)
    img = img.crop((dx, dy, dx + 440, dy + 440))
    a = np.asarray(img).astype(np.float32) * rng.uniform(0.8, 1.2, size=3)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tinydata")
    rng = np.random.default_rng(0)
    for sub in ("real", "exif", "fake"):
        (root / sub).mkdir()
    for i in range(16):
        _variant(rng).save(root / "real" / f"r{i:02d}.jpg", quality=92)
    for i in range(16):
        img = _variant(rng)
        exif = img.getexif()
        exif.get_ifd(0x8769).update({0x829D: IFDRational(int(rng.choice([18, 28, 40, 56])), 10),
                                     0x829A: IFDRational(1, int(rng.choice([30, 60, 125, 250]))),
                                     0x920A: IFDRational(int(rng.integers(24, 85)), 1),
                                     0x8827: int(rng.choice([100, 200, 400, 800]))})
        img.save(root / "exif" / f"e{i:02d}.jpg", exif=exif, quality=92)
    img = data.astronaut()
    lm = get_face_finder("dlib")(img)[0].landmarks
    for i in range(10):  # "fakes": warped faces, saved as PNG (a different format from the reals on purpose)
        c = crop_face(img, lm)
        out, _ = manipulate(c.image, c.landmarks, "piecewise_affine", seed=i)
        Image.fromarray(out).resize((300, 300)).save(root / "fake" / f"f{i:02d}.png")
    return root


def _config(tiny_data: Path, tmp: Path, **pretext) -> Path:
    extra = "\n".join(f"{k} = {json.dumps(v)}" for k, v in pretext.items())
    cfg = tmp / "tiny.toml"
    cfg.write_text(f"""
name = "tiny"
out_dir = "{tmp / 'runs'}"
stages = ["cache", "pretext", "gmm", "evaluate", "ksweep", "baseline", "ablation", "card"]
[data]
real = ["{tiny_data / 'real'}"]
exif = ["{tiny_data / 'exif'}"]
cache_dir = "{tmp / 'cache'}"
split = {{ pretext = 0.5, calib = 0.25, heldout = 0.25 }}
gmm_from = ["pretext"]
calibrate_on = ["calib"]
workers = 1
[data.fake]
warped = "{tiny_data / 'fake'}"
[pretext]
backbone = "resnet18"
epochs = 2
batch_size = 8
lr = 1e-4
workers = 0
log_every = 1
{extra}
[gmm]
n_components = 2
covariance_type = "diag"
calib_folds = 2
[eval]
robustness_jpeg = [50]
robustness_downscale = [0.5]
ksweep = [1, 2]
figures = ["tsne"]
figure_points = 10
reference_points = 12
[baseline]
backbone = "resnet18"
epochs = 1
batch_size = 8
[ablation]
epochs = 1
""")
    return cfg


def test_all_stages_produce_a_loadable_artifact(tiny_data, tmp_path):
    from train.__main__ import main

    cfg = _config(tiny_data, tmp_path, max_steps=3)
    assert main(["all", "--config", str(cfg)]) == 0
    run = tmp_path / "runs" / "tiny"
    det = Detector.load(run / "artifact", device="cpu")
    faces = det.score(data.astronaut())
    assert len(faces) == 1 and np.isfinite(faces[0].log_likelihood)
    res = json.loads((run / "eval" / "results.json").read_text())["results"]
    assert set(res) == {"none", "jpeg50", "down0.5"}
    assert 0 <= res["none"]["per_generator"]["warped"]["auc"] <= 100
    assert (run / "eval" / "tsne.png").stat().st_size > 1000
    log = (run / "pretext" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,epoch,lr,loss") and len(log) == 4
    counts = json.loads((run / "data_counts.json").read_text())
    assert counts["faces"]["exif"] == 16 and counts["faces"]["warped"] == 10
    config = json.loads((run / "artifact" / "config.json").read_text())
    assert config["crop"]["jpeg_quality"] == 90 and config["model"]["backbone"] == "resnet18"
    training = config["training"]  # calib faces cross-fitted: out-of-fold threshold, then part of the final fit
    assert training["calibration_folds"] == 2 and training["calibration_faces"] == training["gmm_fit_faces"]["calib/real"]
    ks = json.loads((run / "ksweep" / "results.json").read_text())
    assert set(ks) == {"K=1", "K=2"}
    ab = json.loads((run / "ablation" / "results.json").read_text())
    assert list(ab["rows"]) == ["ranking only", "manipulation only", "ranking + manipulation",
                                "no pretext training (random init, input filter none)"] and ab["epochs"] == 1
    bl = json.loads((run / "baseline" / "results.json").read_text())
    assert list(bl) == ["trained on warped"] and "warped (seen)" in bl["trained on warped"]["per_generator"]
    card = (run / "MODEL_CARD.md").read_text()
    assert "## Results (matched processing)" in card and "| **mean** |" in card and "Ablation" in card
    assert (run / "artifact" / "eval_summary.json").is_file()
    ref = np.load(run / "artifact" / "reference.npz", allow_pickle=False)
    assert ref["real"].shape[1] == 768 and set(ref["fake_labels"]) == {"warped"}


def test_resume_continues_with_identical_state(tiny_data, tmp_path):
    """Stop after 2 steps (checkpoint), resume to 4: same weights and optimizer state as 4 steps straight."""
    from train.config import load_config
    from train.stages import stage_cache, stage_pretext

    torch.set_num_threads(1)  # bitwise-reproducible kernels
    run = load_config(_config(tiny_data, tmp_path))
    sets = stage_cache(run)
    from dataclasses import replace

    straight = stage_pretext(run, sets, out=tmp_path / "a", cfg=replace(run.pretext, max_steps=4))
    stage_pretext(run, sets, out=tmp_path / "b", cfg=replace(run.pretext, max_steps=2))
    ck2 = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert ck2["step"] == 2
    resumed = stage_pretext(run, sets, out=tmp_path / "b", resume=True, cfg=replace(run.pretext, max_steps=4))
    from safetensors.torch import load_file

    wa, wb = load_file(str(straight)), load_file(str(resumed))
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-5, atol=1e-6)
    ca = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    cb = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert ca["scheduler"] == cb["scheduler"] and ca["step"] == cb["step"] == 4
    for sa, sb in zip(ca["optimizer"]["state"].values(), cb["optimizer"]["state"].values()):
        torch.testing.assert_close(sa["exp_avg_sq"], sb["exp_avg_sq"], rtol=1e-4, atol=1e-9)


def test_killed_run_resumes_from_its_last_checkpoint(tiny_data, tmp_path):
    """SIGKILL a real training process mid-epoch; --resume continues from the last checkpoint with the same
    optimizer/scheduler state, and ends where an uninterrupted run ends."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from dataclasses import replace

    from safetensors.torch import load_file

    from train.config import load_config
    from train.stages import stage_cache, stage_pretext

    cfg_path = _config(tiny_data, tmp_path, max_steps=6, ckpt_every_steps=1)
    run = load_config(cfg_path)
    out = run.run_dir / "pretext"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "train", "pretext", "--config", str(cfg_path)],
                            cwd=Path(__file__).resolve().parent.parent, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = out / "checkpoint.pt"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if ckpt.is_file() and torch.load(ckpt, weights_only=True)["step"] >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "training ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed = torch.load(ckpt, weights_only=True)
    assert 2 <= killed["step"] < 6 and not (out / "model.safetensors").exists()

    torch.set_num_threads(1)
    sets = stage_cache(run)
    resumed = stage_pretext(run, sets, resume=True)
    after = torch.load(ckpt, weights_only=True)
    assert after["step"] == 6
    straight = stage_pretext(run, sets, out=tmp_path / "straight", cfg=replace(run.pretext))
    wa, wb = load_file(str(straight)), load_file(str(resumed))
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-4, atol=1e-5)
    ref = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)
    assert ref["scheduler"] == after["scheduler"]
