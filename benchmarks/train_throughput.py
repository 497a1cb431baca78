"""Pretext-training throughput: the real input pipeline (cached crops -> manipulation -> JPEG -> normalise ->
DataLoader workers -> device) vs the same steps on synthetic tensors already on the device, in one run.
Target on a GPU: ratio >= 0.7 (the input pipeline keeps the GPU fed).

    python -m benchmarks.train_throughput [--backbone resnet18] [--batch 32] [--steps 8] [--workers 2]

The crops are made from skimage's astronaut (jittered), so it runs anywhere without data.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch.utils.data import DataLoader


from detector.crop import crop_face
from detector.faces import get_face_finder
from train.cache import FaceSet
from train.config import PretextConfig, RunConfig
from train.data import PretextDataset, ResumableSampler
from train.pretext import make_model, train_step


def synthetic_faceset(n: int, seed: int = 0) -> FaceSet:
    from skimage import data

    img = data.astronaut()
    lm = get_face_finder("dlib")(img)[0].landmarks
    rng = np.random.default_rng(seed)
    crops, lms = [], []
    for _ in range(n):
        c = crop_face(img, lm + rng.normal(0, 4, size=2))
        crops.append(c.image)
        lms.append(c.landmarks)
    tags = rng.uniform(1, 100, size=(n, 4))
    return FaceSet("synthetic", np.stack(crops), np.stack(lms), np.arange(n), tags, [f"{i}" for i in range(n)], {})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", default="resnet18")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    cfg = PretextConfig(backbone=args.backbone, batch_size=args.batch, workers=args.workers, lr=1e-4)
    run = RunConfig(pretext=cfg)
    fs = synthetic_faceset(args.batch * 4)
    ds = PretextDataset([fs], run.crop, run.manipulation, 0.5, 0)

    def fresh():
        torch.manual_seed(0)
        model = make_model(cfg).to(device)
        if device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        return model, opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    # real pipeline: as many epochs of the small set as needed for `steps` timed steps (+1 warm-up)
    model, opt, sched = fresh()
    sampler = ResumableSampler(len(ds), args.batch, seed=0)
    loader_kw = dict(batch_size=args.batch, num_workers=args.workers, pin_memory=device.type == "cuda", drop_last=True)

    def batches():
        epoch = 0
        while True:
            sampler.set_epoch(epoch)
            ds.set_epoch(epoch)
            yield from DataLoader(ds, sampler=sampler, persistent_workers=False, **loader_kw)
            epoch += 1

    it = batches()
    train_step(model, opt, sched, *next(it), cfg, device)
    sync()
    t = time.perf_counter()
    for _ in range(args.steps):
        train_step(model, opt, sched, *next(it), cfg, device)
    sync()
    real = args.steps * args.batch / (time.perf_counter() - t)

    # synthetic input already on the device: the model's ceiling
    model, opt, sched = fresh()
    x = torch.randn(args.batch, 3, 224, 224, device=device)
    m = (torch.arange(args.batch, device=device) % 2).float()
    tags = torch.rand(args.batch, 4, device=device)
    train_step(model, opt, sched, x, m, tags, cfg, device)
    sync()
    t = time.perf_counter()
    for _ in range(args.steps):
        train_step(model, opt, sched, x, m, tags, cfg, device)
    sync()
    synth = args.steps * args.batch / (time.perf_counter() - t)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"device: {name}, backbone {args.backbone}, batch {args.batch}, {args.steps} steps, {args.workers} workers")
    print(f"real input pipeline:      {real:8.1f} img/s")
    print(f"synthetic on-device input: {synth:8.1f} img/s")
    print(f"ratio real / synthetic:    {real / synth:8.3f}  (GPU target >= 0.7)")


if __name__ == "__main__":
    main()
