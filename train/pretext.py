"""Self-supervised pretext training: EXIF ranking + manipulation classification (paper Sec. 2.1).

One script for one CPU, one GPU or many GPUs (`torchrun --nproc_per_node N -m train pretext ...`). Under DDP
each process takes batch_size / N faces per step and the ranking pairs are formed within each process's
batch (M(M-1)/2 pairs per process), as a single-process run forms them within its batch.

Checkpoints (`checkpoint.pt`: model, optimizer, scheduler, position) are written atomically at every epoch end,
every `ckpt_every_steps`, and on SIGINT/SIGTERM; `--resume` continues from the exact batch. Per-step losses go
to log.csv (and TensorBoard when installed); the final weights to model.safetensors.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import save_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from detector.model import FaceNet, ModelConfig

from .config import PretextConfig, RunConfig, save_json
from .data import PretextDataset, ResumableSampler
from .losses import pretext_loss

# PretextConfig fields that may change between a stop and a --resume without changing the optimisation.
_RESUMABLE = ("max_steps", "workers", "ckpt_every_steps", "log_every")

LOG_FIELDS = ["step", "epoch", "lr", "loss", "rank_aperture", "rank_exposure", "rank_focal_length", "rank_iso",
              "pairs_aperture", "pairs_exposure", "pairs_focal_length", "pairs_iso", "manip_loss", "manip_acc",
              "img_per_s"]


def _dist_env() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world


def _atomic_save(obj: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class _Interrupt:
    """Turns SIGINT/SIGTERM into a flag checked between steps, so the checkpoint is never half-written."""

    def __init__(self) -> None:
        self.hit = False
        self._old = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def _handle(self, signum, frame) -> None:
        self.hit = True

    def any(self, world: int, device: torch.device) -> bool:
        """True if any rank was signalled: under DDP a signal often reaches one process only, and a rank that
        stops alone leaves the others waiting at the next collective. All ranks agree every step (one tiny
        all-reduce), so they all stop at the same batch; then `hit` is set everywhere."""
        if world > 1:
            flag = torch.tensor([float(self.hit)], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            self.hit = bool(flag.item())
        return self.hit

    def restore(self) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)


def train_step(model, opt, sched, x: torch.Tensor, manipulated: torch.Tensor, tags: torch.Tensor,
               cfg: PretextConfig, device: torch.device) -> dict:
    """One optimisation step on a batch (moved to `device` here); returns the loss logs."""
    x = x.to(device, non_blocking=True)
    if device.type == "cuda" and cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    manipulated, tags = manipulated.to(device, non_blocking=True), tags.to(device, non_blocking=True)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if (cfg.amp and device.type == "cuda") else nullcontext()
    with amp:
        _, heads = model(x)
    loss, logs = pretext_loss(heads.float(), tags, manipulated, cfg.tasks, cfg.ties)
    if not torch.isfinite(loss):
        raise FloatingPointError(f"non-finite pretext loss ({logs}); stopping before it reaches the weights. "
                                 "Lower lr, or check the inputs; the last checkpoint is intact.")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()
    return logs


def make_model(cfg: PretextConfig) -> FaceNet:
    return FaceNet(ModelConfig(backbone=cfg.backbone, embed_dim=cfg.embed_dim, input_filter=cfg.input_filter))


def train_pretext(run: RunConfig, sets: list, out_dir: Path, resume: bool = False,
                  cfg: PretextConfig | None = None) -> Path:
    """Train on `sets` (FaceSets); returns the path of model.safetensors."""
    cfg = cfg or run.pretext
    rank, local_rank, world = _dist_env()
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
    out_dir.mkdir(parents=True, exist_ok=True)
    is_main = rank == 0

    torch.manual_seed(cfg.seed)
    model = make_model(cfg).to(device)
    if device.type == "cuda" and cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} must divide evenly over {world} processes")
    per_rank = cfg.batch_size // world
    dataset = PretextDataset(sets, run.crop, run.manipulation, cfg.manip_prob if "manipulation" in cfg.tasks else 0.0,
                             cfg.seed, run.augment)
    sampler = ResumableSampler(len(dataset), per_rank, rank, world, cfg.seed)
    steps_per_epoch = sampler.steps_per_epoch
    total_steps = cfg.max_steps or cfg.epochs * steps_per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, cfg.epochs * steps_per_epoch))

    ckpt_path = out_dir / "checkpoint.pt"
    epoch, batch_in_epoch, step = 0, 0, 0
    # What a checkpoint must agree with to be continued: everything that shapes the optimisation (not max_steps,
    # workers or logging, which may change between a stop and a resume).
    identity = {f"{section}.{k}": v for section, d in
                (("pretext", {k: v for k, v in cfg.__dict__.items() if k not in _RESUMABLE}), ("crop", run.crop.to_dict()),
                 ("manipulation", run.manipulation.to_dict()), ("augment", run.augment.to_dict()),
                 ("data", {"world_size": world, "faces": len(dataset)}))
                for k, v in d.items()}
    identity = json.loads(json.dumps(identity, default=list))
    if resume and ckpt_path.is_file():
        ck = torch.load(ckpt_path, map_location=device, weights_only=True)
        saved = json.loads(ck.get("config", "null"))
        if saved != identity:
            saved = saved or {}
            changed = sorted(k for k in set(identity) | set(saved) if saved.get(k) != identity.get(k))
            raise ValueError(f"{ckpt_path} was written by a different training setup ({', '.join(changed)} differ); "
                             "resuming would silently mix two runs. Use the original config, or delete the "
                             "checkpoint (or choose another run name) to start afresh.")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        epoch, batch_in_epoch, step = ck["epoch"], ck["batch_in_epoch"], ck["step"]
        if is_main:
            print(f"resumed from {ckpt_path}: epoch {epoch}, batch {batch_in_epoch}, step {step}")
    ddp = DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None) \
        if world > 1 else model

    def checkpoint(ep: int, b: int) -> None:
        if is_main:
            _atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                          "epoch": ep, "batch_in_epoch": b, "step": step, "config": json.dumps(identity)}, ckpt_path)
        if world > 1:
            dist.barrier()

    if is_main:
        save_json({"pretext": cfg.__dict__, "crop": run.crop.to_dict(), "manipulation": run.manipulation.to_dict(),
                   "augment": run.augment.to_dict(),
                   "world_size": world, "device": str(device), "faces": len(dataset),
                   "steps_per_epoch": steps_per_epoch}, out_dir / "pretext_config.json")
    log_path = out_dir / "log.csv"
    new_log = not (resume and log_path.is_file())
    log_file = open(log_path, "w" if new_log else "a", newline="") if is_main else None
    writer = csv.DictWriter(log_file, fieldnames=LOG_FIELDS, extrasaction="ignore") if log_file else None
    if writer and new_log:
        writer.writeheader()
    tb = None
    if is_main:
        try:
            from torch.utils.tensorboard import SummaryWriter

            tb = SummaryWriter(str(out_dir / "tb"))
        except ImportError:
            pass
    stop = _Interrupt()
    t_start, start_step = time.perf_counter(), step
    bar = tqdm(total=total_steps, initial=step, desc="pretext", unit="step", disable=not is_main)
    interrupted = False
    try:
        while step < total_steps and epoch < cfg.epochs:
            dataset.set_epoch(epoch)
            sampler.set_epoch(epoch, batch_in_epoch)
            loader = DataLoader(dataset, batch_size=per_rank, sampler=sampler, num_workers=cfg.workers,
                                pin_memory=device.type == "cuda", drop_last=True,
                                persistent_workers=False, prefetch_factor=4 if cfg.workers else None)
            model.train()
            t0 = time.perf_counter()
            for x, manipulated, tags in loader:
                logs = train_step(ddp, opt, sched, x, manipulated, tags, cfg, device)
                step += 1
                batch_in_epoch += 1
                dt, t0 = time.perf_counter() - t0, time.perf_counter()
                bar.update(1)
                if is_main and (step % cfg.log_every == 0 or step == 1):
                    row = {"step": step, "epoch": epoch, "lr": sched.get_last_lr()[0],
                           "img_per_s": x.shape[0] * world / dt, **logs}
                    writer.writerow(row)
                    log_file.flush()
                    bar.set_postfix(loss=f"{logs['loss']:.3f}", acc=f"{logs.get('manip_acc', float('nan')):.2f}")
                    if tb:
                        for k, v in row.items():
                            if k not in ("step", "epoch"):
                                tb.add_scalar(k, v, step)
                if cfg.ckpt_every_steps and step % cfg.ckpt_every_steps == 0:
                    checkpoint(epoch, batch_in_epoch)
                if stop.any(world, device) or step >= total_steps:
                    break
            if stop.hit:
                checkpoint(epoch, batch_in_epoch)
                interrupted = True
                break
            if batch_in_epoch >= steps_per_epoch:
                epoch, batch_in_epoch = epoch + 1, 0
            checkpoint(epoch, batch_in_epoch)
    finally:
        stop.restore()
        bar.close()
        if log_file:
            log_file.close()
        if tb:
            tb.close()
    if interrupted:
        if is_main:
            print(f"interrupted: checkpoint at epoch {epoch}, batch {batch_in_epoch}; continue with --resume")
        raise KeyboardInterrupt
    weights = out_dir / "model.safetensors"
    prev = out_dir / "pretext_summary.json"
    if is_main and step > start_step:  # record time only for a call that trained
        spent = json.loads(prev.read_text())["seconds"] if resume and prev.is_file() else 0.0
        save_json({"seconds": round(spent + time.perf_counter() - t_start, 1), "steps": step, "world_size": world,
                   "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"}, prev)
    if world > 1:  # DDP keeps the replicas equal; check it rather than ship rank 0's copy on trust
        ours = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).double()
        ref = ours.clone()
        dist.broadcast(ref, 0)
        if not torch.equal(ours, ref):
            raise RuntimeError(f"rank {rank}'s weights differ from rank 0's after training (max difference "
                               f"{(ours - ref).abs().max().item():.3g})")
    if is_main:
        save_weights(model, weights)
    if world > 1:
        dist.barrier()
    return weights


def random_init_weights(cfg: PretextConfig, out_dir: Path) -> Path:
    """Untrained weights, seeded: the control that shows what pretext training adds to the architecture alone."""
    weights = out_dir / "model.safetensors"
    if not weights.is_file():
        torch.manual_seed(cfg.seed)
        model = make_model(cfg)
        out_dir.mkdir(parents=True, exist_ok=True)
        save_weights(model, weights)
    return weights


def save_weights(model: FaceNet, path: Path) -> None:
    """fp32 safetensors of the model's state (what load_weights reads)."""
    save_file({k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}, str(path))


def load_weights(path: Path, cfg: PretextConfig, as_shipped: bool = False) -> FaceNet:
    """fp32 weights from `path`; as_shipped: rounded to fp16 first, as detector.artifact stores them."""
    from safetensors.torch import load_file

    model = make_model(cfg)
    state = load_file(str(path))
    if as_shipped:
        state = {k: v.half().float() if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    return model.eval()

