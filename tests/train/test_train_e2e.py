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
from train import protocol


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
    for sub in ("real", "real2", "exif", "fake"):
        (root / sub).mkdir()
    for i in range(16):
        _variant(rng).save(root / "real" / f"r{i:02d}.jpg", quality=92)
    for i in range(12):  # a second real source, PNG, for leave-one-source-out
        _variant(rng).save(root / "real2" / f"s{i:02d}.png")
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
stages = ["cache", "pretext", "gmm", "evaluate", "ksweep", "baseline", "ablation", "seeds", "card"]
[data]
real = ["{tiny_data / 'real'}", "{tiny_data / 'real2'}"]
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
spectrum_dim = 4
axis_dim = 3
[eval]
robustness_jpeg = [50]
robustness_downscale = [0.5]
ksweep = [1, 2]
figures = ["tsne"]
figure_points = 10
reference_points = 12
seeds = [1]
[baseline]
backbone = "resnet18"
epochs = 1
batch_size = 8
[ablation]
epochs = 1
""")
    return cfg


def test_all_stages_produce_a_loadable_artifact(tiny_data, tmp_path, monkeypatch):
    from train.__main__ import main

    monkeypatch.setattr(protocol, "MIN_REALS_FOR_AUC", 2)  # the tiny sources leave out a handful of faces each

    cfg = _config(tiny_data, tmp_path, max_steps=3)
    assert main(["all", "--config", str(cfg)]) == 0
    run = tmp_path / "runs" / "tiny"
    det = Detector.load(run / "artifact", device="cpu")
    faces = det.score(data.astronaut())
    assert len(faces) == 1 and np.isfinite(faces[0].log_likelihood)
    assert list(det.anomaly.experts) == ["embedding", "spectrum", "axis"]  # [gmm] *_dim: a product of experts
    assert det.anomaly.experts["spectrum"].projection[1].shape == (111, 4)
    assert det.anomaly.experts["axis"].projection[1].shape == (110, 3)
    results = json.loads((run / "eval" / "results.json").read_text())
    res = results["results"]
    assert set(res) == {"none", "jpeg50", "down0.5"}
    none = res["none"]
    assert set(none["per_generator"]) == {"warped"} and none["worst"]["generator"] == "warped"
    assert none["per_generator"]["warped"]["n_fake"] == 10 and none["mean"]["auc"] == none["per_generator"]["warped"]["auc"]
    assert set(none["loso_far"]) == {"real", "real2"}  # each left out in turn
    worst = max(none["loso_far"], key=lambda k: none["loso_far"][k]["far"])
    assert none["loso_far_worst"] == {"source": worst, **none["loso_far"][worst]}
    assert list(results["references"]) == ["log-spectrum GMM (PCA-64, K=4)", "untrained network (random init)"]
    assert (run / "eval" / "tsne.png").stat().st_size > 1000
    log = (run / "pretext" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,epoch,lr,loss") and len(log) == 4
    counts = json.loads((run / "data_counts.json").read_text())
    assert counts["faces"]["exif"] == 16 and counts["faces"]["warped"] == 10
    config = json.loads((run / "artifact" / "config.json").read_text())
    assert config["crop"]["jpeg_quality"] == 90 and config["model"]["backbone"] == "resnet18"
    training = config["training"]  # calib faces cross-fitted: out-of-fold threshold, then part of the final fit
    split = counts["split"]
    assert training["calibration_folds"] == 2
    assert training["calibration_faces"] == split["real"].get("calib", 0) + split["real2"].get("calib", 0)
    assert training["gmm_fit_faces"]["real"] == split["real"]["pretext"] + split["real"].get("calib", 0)
    ks = json.loads((run / "ksweep" / "results.json").read_text())
    assert set(ks) == {"K=1", "K=2"}
    ab = json.loads((run / "ablation" / "results.json").read_text())
    assert list(ab["rows"]) == ["ranking only", "manipulation only", "ranking + manipulation",
                                "no pretext training (random init, input filter none)"] and ab["epochs"] == 1
    # the EXIF photos train the network: left out only by the rows whose network never trained on them
    assert set(ab["rows"]["no pretext training (random init, input filter none)"]["loso_far"]) == {"real", "real2", "exif"}
    for ref in ("log-spectrum GMM (PCA-64, K=4)", "untrained network (random init)"):
        assert set(results["references"][ref]["loso_far"]) == {"real", "real2", "exif"}, ref
    sd = json.loads((run / "seeds" / "results.json").read_text())  # the recipe again with the network's seed 1
    assert sd["shipped_seed"] == 0 and list(sd["rows"]) == ["seed 1"]
    assert set(sd["rows"]["seed 1"]["loso_far"]) == {"real", "real2"}
    assert (run / "seeds" / "seed1" / "artifact" / "model.safetensors").is_file()
    bl = json.loads((run / "baseline" / "results.json").read_text())
    assert list(bl) == ["trained on warped"] and bl["trained on warped"]["seen"] == "warped"
    assert set(bl["trained on warped"]["tone_matched"]["per_generator"]) == set(bl["trained on warped"]["per_generator"])
    card = (run / "MODEL_CARD.md").read_text()
    assert "log power spectrum" in card
    assert "## Headline: the validation protocol" in card and "| **worst AUC** |" in card and "Ablation" in card
    assert "| real (" in card and "| real2 (" in card  # leave-one-source-out rows
    assert "| seed 0 (shipped) |" in card and "| seed 1 |" in card and "ranks" in card
    summary = json.loads((run / "artifact" / "eval_summary.json").read_text())
    res = results["results"]["none"]  # the app's list of undetected generators comes from the same protocol rows
    assert summary["not_detected"] == protocol.missed_generators(res["per_generator"], res["auc_by_real_source"])
    # the generators ranked against each left-out source's faces: in the results, the summary and the card
    assert set(res["loso_auc_by_source"]) == {"real", "real2"} and res["loso_auc"]["sources"] == ["real", "real2"]
    assert summary["loso_auc"]["mean"] == round(res["loso_auc"]["mean"], 2)
    assert "| **mean AUC against left-out sources** |" in card and "### Against photo sources the mixture never saw" in card
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
                            cwd=Path(__file__).resolve().parents[2], env=env,
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


def test_resume_refuses_a_changed_config(tiny_data, tmp_path):
    from dataclasses import replace

    from train.config import load_config
    from train.stages import stage_cache, stage_pretext

    run = load_config(_config(tiny_data, tmp_path))
    sets = stage_cache(run)
    stage_pretext(run, sets, out=tmp_path / "p", cfg=replace(run.pretext, max_steps=1))
    # max_steps may change between a stop and a resume; lr may not
    stage_pretext(run, sets, out=tmp_path / "p", resume=True, cfg=replace(run.pretext, max_steps=2))
    with pytest.raises(ValueError, match="pretext.lr"):
        stage_pretext(run, sets, out=tmp_path / "p", resume=True, cfg=replace(run.pretext, max_steps=3, lr=1e-2))
    assert torch.load(tmp_path / "p" / "checkpoint.pt", weights_only=True)["step"] == 2


def test_a_non_finite_loss_stops_training_before_the_weights_change():
    from train.config import PretextConfig
    from train.pretext import make_model, train_step

    cfg = PretextConfig(backbone="resnet18")
    model = make_model(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    x = torch.randn(4, 3, 64, 64)
    x[0, 0, 0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="non-finite"):
        train_step(model, opt, sched, x, torch.tensor([0.0, 1.0, 0.0, 1.0]), torch.full((4, 4), float("nan")), cfg,
                   torch.device("cpu"))
    for k, v in model.named_parameters():
        torch.testing.assert_close(v.detach(), before[k])


def _authors_checkpoint(path: Path) -> dict:
    """A checkpoint laid out like the authors' (AIGFD_EXIF EXIFNet_classfication_5heads_v2), random weights, with
    CLIP text-tower leftovers and a DataParallel prefix."""
    from torchvision.models import resnet50

    torch.manual_seed(1)
    enc = resnet50(weights=None)
    enc.fc = torch.nn.Linear(2048, 768)
    heads = {name: torch.nn.Linear(768, 1) for name in ("fc_av", "fc_et", "fc_fl", "fc_iso", "fc_face")}
    state = {f"module.model.visual.{k}": v for k, v in enc.state_dict().items()}
    for name, lin in heads.items():
        state.update({f"module.{name}.{k}": v for k, v in lin.state_dict().items()})
    state["module.model.token_embedding.weight"] = torch.zeros(10, 4)
    state["module.model.logit_scale"] = torch.tensor(4.6)
    torch.save({"model": state, "epoch": 7}, path)
    return {"encoder": enc.eval(), **heads}


def test_import_maps_the_authors_checkpoint_and_builds_an_artifact(tiny_data, tmp_path):
    from train.__main__ import main
    from train.authors import load_authors_checkpoint, map_state_dict

    ref = _authors_checkpoint(tmp_path / "ck.pth")
    model = load_authors_checkpoint(tmp_path / "ck.pth")
    x = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        z, heads = model(x)
        z_ref = ref["encoder"](x)
        torch.testing.assert_close(z, z_ref)
        for col, name in enumerate(("fc_av", "fc_et", "fc_fl", "fc_iso", "fc_face")):  # HEAD_NAMES order
            torch.testing.assert_close(heads[:, col], ref[name](z_ref)[:, 0])
    with pytest.raises(ValueError, match="missing heads"):
        map_state_dict({k: v for k, v in torch.load(tmp_path / "ck.pth", weights_only=True)["model"].items()
                        if "fc_fl" not in k})

    cfg = tmp_path / "authors.toml"
    cfg.write_text(f"""
name = "authors"
out_dir = "{tmp_path / 'runs'}"
stages = ["cache", "import", "gmm", "evaluate"]
[authors]
checkpoint = "ck.pth"
[data]
real = ["{tiny_data / 'real'}", "{tiny_data / 'real2'}"]
cache_dir = "{tmp_path / 'cache'}"
split = {{ pretext = 0.5, calib = 0.25, heldout = 0.25 }}
gmm_from = ["pretext"]
calibrate_on = ["calib"]
workers = 1
[data.fake]
warped = "{tiny_data / 'fake'}"
[crop]
jpeg_quality = 0
[pretext]
backbone = "resnet50"
input_filter = "none"
[gmm]
n_components = 1
covariance_type = "diag"
[eval]
references = false
figures = []
robustness_jpeg = []
robustness_downscale = []
""")
    assert main(["all", "--config", str(cfg)]) == 0
    art = tmp_path / "runs" / "authors" / "artifact"
    det = Detector.load(art, device="cpu")
    assert det.model.cfg.backbone == "resnet50" and not det.crop_cfg.jpeg_quality
    for k, v in det.model.state_dict().items():  # fp16 as shipped, otherwise the authors' weights
        if v.is_floating_point():
            torch.testing.assert_close(v, model.state_dict()[k].half().float())
    assert len(det.score(data.astronaut())) == 1


def _launch(args: list[str], **kw):
    import os
    import subprocess

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(args, cwd=Path(__file__).resolve().parents[2], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def test_sigterm_stops_at_a_checkpoint_and_resume_finishes_the_run(tiny_data, tmp_path):
    """SIGTERM (what schedulers and `docker stop` send) mid-epoch: the run writes a checkpoint and exits 130; --resume
    then ends exactly where an uninterrupted run ends."""
    import signal
    import sys
    import time
    from dataclasses import replace

    from safetensors.torch import load_file

    from train.config import load_config
    from train.stages import stage_cache, stage_pretext

    cfg_path = _config(tiny_data, tmp_path, max_steps=6, ckpt_every_steps=1)
    run = load_config(cfg_path)
    ckpt = run.run_dir / "pretext" / "checkpoint.pt"
    proc = _launch([sys.executable, "-m", "train", "pretext", "--config", str(cfg_path)])
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            if ckpt.is_file() and torch.load(ckpt, weights_only=True)["step"] >= 2:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "training ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, out[-2000:]
    assert "continue with --resume" in out
    stopped = torch.load(ckpt, weights_only=True)["step"]
    assert 2 <= stopped < 6 and not (run.run_dir / "pretext" / "model.safetensors").exists()
    torch.set_num_threads(1)
    sets = stage_cache(run)
    resumed = stage_pretext(run, sets, resume=True)
    straight = stage_pretext(run, sets, out=tmp_path / "straight", cfg=replace(run.pretext))
    wa, wb = load_file(str(straight)), load_file(str(resumed))
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-4, atol=1e-5)


def test_two_process_ddp_on_cpu_agrees_across_ranks_and_resumes(tiny_data, tmp_path):
    """torchrun, 2 processes, gloo: the ranks end with identical weights (train_pretext checks it and fails
    otherwise), and 2 steps + --resume to 4 equals 4 steps straight."""
    import sys

    from safetensors.torch import load_file

    def torchrun(cfg: Path, *extra: str) -> str:
        proc = _launch([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        "-m", "train", "pretext", "--config", str(cfg), *extra])
        try:
            out, _ = proc.communicate(timeout=600)
        finally:
            proc.kill()
        assert proc.returncode == 0, out[-3000:]
        return out

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    torchrun(_config(tiny_data, a, max_steps=4))
    torchrun(_config(tiny_data, b, max_steps=2))
    assert torch.load(b / "runs" / "tiny" / "pretext" / "checkpoint.pt", weights_only=True)["step"] == 2
    out = torchrun(_config(tiny_data, b, max_steps=4), "--resume")
    assert "resumed from" in out
    summary = json.loads((a / "runs" / "tiny" / "pretext" / "pretext_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 4
    wa = load_file(str(a / "runs" / "tiny" / "pretext" / "model.safetensors"))
    wb = load_file(str(b / "runs" / "tiny" / "pretext" / "model.safetensors"))
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-4, atol=1e-5)
