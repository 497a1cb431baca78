"""Supervised binary baseline (paper's comparison): the same backbone trained real-vs-ONE-generator, then
tested on held-out reals vs every generator (the unseen ones show how binary detectors generalise).
It is the only code here that trains on AI-generated images; the detector itself never does."""

from __future__ import annotations


import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from detector.crop import CropConfig, network_input
from detector.model import FaceNet, ModelConfig

from .cache import file_unit
from .config import BaselineConfig, save_json
from .metrics import detection_metrics, markdown_table, mean_metrics


class _Binary(Dataset):
    def __init__(self, crops: list[np.ndarray], labels: np.ndarray, crop: CropConfig) -> None:
        self.crops, self.labels, self.crop = crops, labels, crop

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return network_input([self.crops[i]], self.crop)[0], float(self.labels[i])


class BinaryNet(nn.Module):
    def __init__(self, backbone: str, input_filter: str = "none") -> None:
        super().__init__()
        self.net = FaceNet(ModelConfig(backbone=backbone, input_filter=input_filter))
        self.out = nn.Linear(self.net.cfg.embed_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.net.embed(x)).squeeze(1)


def _hash_split(files: list[str], fraction: float, seed: int) -> np.ndarray:
    return np.array([file_unit(f, f"b{seed}") for f in files]) < fraction


def _logits(model: nn.Module, crops, crop: CropConfig, device, batch: int = 64) -> np.ndarray:
    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(crops), batch):
            x = network_input(crops[i : i + batch], crop).to(device)
            out.append(model(x).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def train_binary(real_crops, fake_crops, cfg: BaselineConfig, crop: CropConfig, device) -> nn.Module:
    torch.manual_seed(cfg.seed)
    crops = [*real_crops, *fake_crops]
    labels = np.r_[np.zeros(len(real_crops)), np.ones(len(fake_crops))]
    loader = DataLoader(_Binary(crops, labels, crop), batch_size=cfg.batch_size, shuffle=True, num_workers=2,
                        drop_last=len(labels) > cfg.batch_size)
    model = BinaryNet(cfg.backbone, cfg.input_filter).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    pos_weight = torch.tensor(len(real_crops) / max(1, len(fake_crops)), device=device)  # balance the classes
    lossf = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    for epoch in range(cfg.epochs):
        model.train()
        for x, y in tqdm(loader, desc=f"baseline epoch {epoch + 1}/{cfg.epochs}", leave=False):
            loss = lossf(model(x.to(device)), y.float().to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model


def stage_baseline(run, sets) -> dict:
    """For each generator G in `train_on`: train on real faces + a `train_fraction` of G's fakes, all with the
    evaluation prep (so the two classes differ by generation, not by one JPEG pass); test on held-out reals vs G's
    other fakes and every face of every other generator (and scale). Acc at logit 0 (balanced), AP, AUC, and the
    tone-matched AUC (protocol.tone_matched: a classifier, too, can rank by the generated faces' look); the mean
    over the generators it never saw is the number the one-class detector is compared with."""
    from .protocol import tone_matched, worst_generator

    cfg: BaselineConfig = run.baseline
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    reals = np.concatenate([np.asarray(fs.crops) for fs in sets.split("pretext", evaluation=True).values()])
    rng = np.random.default_rng(cfg.seed)
    reals = reals[rng.permutation(len(reals))[: max(1, int(len(reals) * cfg.train_fraction))]]
    held_sets = sets.split("heldout", evaluation=True)
    held = np.concatenate([np.asarray(fs.crops) for fs in held_sets.values()])
    rows = {}
    for g in [g for g in cfg.train_on if g in sets.fake] or list(sets.fake)[:1]:
        fs = sets.fake[g]
        train_mask = _hash_split(fs.files, cfg.train_fraction, cfg.seed)[fs.file_idx]
        model = train_binary(list(reals), list(np.asarray(fs.crops)[train_mask]), cfg, run.crop, device)
        real_logits = _logits(model, held, run.crop, device)
        per, tested, scores = {}, {}, {}
        for g2, fs2 in sets.fake.items():
            same = g2.split("@")[0] == g  # G itself, or G rescaled: test only on files it did not train on
            tested[g2] = fs2.subset(np.nonzero(~_hash_split(fs2.files, cfg.train_fraction, cfg.seed)[fs2.file_idx])[0]) \
                if same else fs2
            # detection_metrics expects log-likelihood-like scores (low = fake): pass -logits, threshold 0
            scores[g2] = -_logits(model, np.asarray(tested[g2].crops), run.crop, device)
            per[g2] = detection_metrics(-real_logits, scores[g2], 0.0)
        unseen = {k: v for k, v in per.items() if k.split("@")[0] != g}
        rows[f"trained on {g}"] = {"seen": g, "per_generator": per, "mean": mean_metrics(per),
                                   "mean_unseen": mean_metrics(unseen), "worst": worst_generator(per),
                                   "heldout_far_all": per[g]["far"], "n_heldout": int(len(held)),
                                   "tone_matched": tone_matched(run, held_sets, -real_logits, tested, scores, 0.0)}
    out = run.run_dir / "baseline"
    save_json(rows, out / "results.json")
    md = ["# Supervised binary baseline", "",
          "Same backbone, trained real vs one generator; Acc at logit 0 (balanced). The generator trained on (at any "
          "scale) is seen; every other one is unseen.", ""]
    for k, v in rows.items():
        unseen = f"mean AUC on unseen generators {v['mean_unseen']['auc']:.2f}" if v["mean_unseen"] else "no unseen generator"
        md += [f"## {k} ({unseen})", "", markdown_table({k: v["per_generator"]}), ""]
    (out / "results.md").write_text("\n".join(md) + "\n")
    return rows
