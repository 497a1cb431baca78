"""Pretext training data: cached face crops, manipulated on the fly, with their photo's EXIF tags."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from detector.crop import CropConfig, network_input
from detector.manipulate import ManipulationConfig, random_manipulation

from .augment import AugmentConfig, benign
from .cache import FaceSet


class PretextDataset(Dataset):
    """Faces from several FaceSets. Item i of epoch e is a pure function of (seed, e, i): first, with probability
    `augment.prob`, a chain of benign processing (train.augment: the same photo as the world may re-compress or
    resize it); then with probability `manip_prob` one of the four manipulations (uniform), else none.
    Deterministic under any number of DataLoader workers and across resumes."""

    def __init__(self, sets: list[FaceSet], crop: CropConfig = CropConfig(),
                 manip: ManipulationConfig = ManipulationConfig(), manip_prob: float = 0.5, seed: int = 0,
                 augment: AugmentConfig = AugmentConfig()) -> None:
        self.sets = sets
        self.index = np.concatenate([np.stack([np.full(len(s), k), np.arange(len(s))], 1) for k, s in enumerate(sets)])
        self.crop, self.manip, self.manip_prob, self.seed, self.augment = crop, manip, manip_prob, seed, augment
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.index)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int):
        k, j = self.index[i]
        fs = self.sets[k]
        img = np.asarray(fs.crops[j])
        rng = np.random.default_rng([self.seed, self.epoch, int(i)])
        img = benign(img, rng, self.augment)
        manipulated = self.manip_prob > 0 and rng.random() < self.manip_prob
        if manipulated:
            img, _, _ = random_manipulation(img, fs.landmarks[j], rng, self.manip)
        x = network_input([img], self.crop)[0]
        return x, torch.tensor(float(manipulated)), torch.from_numpy(fs.tags[j].astype(np.float32))


class ResumableSampler(Sampler[int]):
    """Seeded per-epoch permutation, sharded over ranks, that can start at any batch of an epoch.

    Written by hand because torch's DistributedSampler cannot resume mid-epoch. Each rank gets the same number
    of full batches (the tail is dropped), so DDP ranks never wait on each other at the end of an epoch.
    """

    def __init__(self, n: int, batch_size: int, rank: int = 0, world_size: int = 1, seed: int = 0) -> None:
        self.n, self.batch_size, self.rank, self.world, self.seed = n, batch_size, rank, world_size, seed
        self.epoch, self.start_batch = 0, 0
        if self.steps_per_epoch == 0:
            raise ValueError(f"{n} samples are fewer than one batch of {batch_size} per rank x {world_size} ranks")

    @property
    def steps_per_epoch(self) -> int:
        return (self.n // self.world) // self.batch_size

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch, self.start_batch = epoch, start_batch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        perm = torch.randperm(self.n, generator=g)[self.rank :: self.world]
        perm = perm[: self.steps_per_epoch * self.batch_size]
        return iter(perm[self.start_batch * self.batch_size :].tolist())

    def __len__(self) -> int:
        return (self.steps_per_epoch - self.start_batch) * self.batch_size
