"""`python -m train card`: write runs/<name>/MODEL_CARD.md from the run's own result files, so every number and
setting in the card is reproduced by re-running the pipeline. Nothing measured is typed in here: numbers come from
the run's JSON files, settings from its config; the only literals are descriptions of the data sources and the
paper's own published figures (cited as such)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from detector.anomaly import GMMConfig
from detector.pipeline import PADDED_SHARE, SMALL_FACE_PX

from .config import RunConfig
from .metrics import TONE_NEIGHBOURS, markdown_table, source_auc_table
from .protocol import (MIN_FAKES_FOR_WORST, MIN_REALS_FOR_AUC, NEAR_CHANCE_AUC, headline_table, loso_table,
                       missed_generators, unseen_source_table)

SOURCES = {
    "ffhq128": "FFHQ thumbnails (128 px PNG, aligned faces)",
    "utkface": "UTKFace crop_part1 (200 px JPEG q75)",
    "lfw": "Labeled Faces in the Wild (250 px JPEG q90)",
    "ciplab": "Yonsei 'real and fake face' set, real half (<=256 px JPEG q95)",
    "webmorph": "WebMorph studio portraits (<=512 px JPEG q95, CC-BY-4.0)",
    "amfd": "AMFD face photos with EXIF (one camera: Canon PowerShot ELPH 340 HS)",
    "camera": "camera/phone test photos with EXIF (many makes; few contain faces)",
    "photos": "public photo-site photos with EXIF (~60 camera models; groups, parties, portraits)",
    "sd21": "Stable Diffusion 2.1 faces (SDFD), 768 px JPEG q75",
    "stylegan3": "StyleGAN3-R FFHQ faces, psi 0.5-1.0, 256 px PNG",
    "flux1_dev": "FLUX.1 [dev] faces cut from SFHQ-T2I figure grids, ~470 px JPEG q95",
    "flux1_schnell": "FLUX.1 [schnell] faces cut from SFHQ-T2I figure grids, ~470 px JPEG q95",
    "flux1_pro": "FLUX.1 [pro] faces cut from SFHQ-T2I figure grids, ~470 px JPEG q95",
    "sdxl": "Stable Diffusion XL faces cut from SFHQ-T2I figure grids, ~470 px JPEG q95",
    "dalle3": "DALL-E 3 faces cut from SFHQ-T2I figure grids, ~470 px JPEG q95",
}


def _load(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def _fmt_row(label: str, m: dict) -> str:
    return f"| {label} | {m['acc']:.2f} | {m['ap']:.2f} | {m['auc']:.2f} |"


def _matched(auc: float | None) -> str:
    """A tone-matched AUC cell closing a per-generator row."""
    return f" {auc:.2f} |" if auc is not None else " - |"


def training_time(run_dir: Path) -> str:
    summary = _load(run_dir / "pretext" / "pretext_summary.json")
    if summary:
        return f"{summary['seconds'] / 60:.0f} min on {summary['device']}"
    log = run_dir / "pretext" / "log.csv"
    if not log.is_file():
        return "unknown"
    rows = list(csv.DictReader(log.open()))
    cfg = _load(run_dir / "pretext" / "pretext_config.json") or {}
    steps = int(rows[-1]["step"])
    rate = sum(float(r["img_per_s"]) for r in rows) / len(rows)
    bs = cfg.get("pretext", {}).get("batch_size", 64)
    return f"about {steps * bs / rate / 60:.0f} min on {cfg.get('device', 'cpu')} (from the logged throughput)"


def baseline_rows(bl: dict | None) -> dict[str, dict]:
    """The supervised baselines as protocol columns (their threshold: logit 0)."""
    return {f"supervised, {k}": v for k, v in (bl or {}).items()}


def unseen_comparison(model: dict, bl: dict | None) -> list[str]:
    """The paper's claim, checked: mean AUC over the generators a supervised baseline never saw, for it and for the
    one-class model on exactly the same generators."""
    lines = []
    for label, row in (bl or {}).items():
        unseen = [g for g in row["per_generator"] if g.split("@")[0] != row["seen"]]
        if not unseen:
            continue
        ours = sum(model["per_generator"][g]["auc"] for g in unseen) / len(unseen)
        line = (f"- {label}: mean AUC on the {len(unseen)} generator rows it never saw "
                f"**{row['mean_unseen']['auc']:.1f}**; this model on the same rows **{ours:.1f}** "
                f"({ours - row['mean_unseen']['auc']:+.1f}; the paper claims >= +10 at its scale).")
        tm_bl, tm_ours = (row.get("tone_matched") or {}).get("per_generator"), \
            (model.get("tone_matched") or {}).get("per_generator")
        if tm_bl and tm_ours and all(g in tm_bl and g in tm_ours for g in unseen):
            # the same comparison once each generated face meets real faces of its own look (protocol.tone_matched)
            a, b = (sum(t[g] for g in unseen) / len(unseen) for t in (tm_bl, tm_ours))
            line += f" Tone-matched on the same rows: {a:.1f} against this model's {b:.1f} ({b - a:+.1f})."
        lines.append(line)
    return lines


def seed_spread(shipped: dict, seed: int, sd: dict | None) -> list[str]:
    """Markdown lines: the protocol's headline numbers for the shipped network and for the same recipe with other
    seeds (`python -m train seeds`), and how the shipped draw ranks among them."""
    if not sd or not sd.get("rows"):  # say so: a card without the spread reads as if seed 0 were the recipe
        return ["### The same recipe with other seeds of the network", "",
                "Not measured for this model: run `python -m train seeds` (then `card`) for the spread of these "
                "numbers over other random draws of the network.", ""]
    rows = {f"seed {seed} (shipped)": shipped, **sd["rows"]}
    def worst(v: dict, key: str, name: str, fmt: str) -> str:
        w = v.get(key)
        return f"{w[fmt]:.1f} ({w[name]})" if w else "-"

    intro = ("The network's weights are one random draw; `python -m train seeds` rebuilds the model with other seeds "
             "(same data, density, threshold rule and protocol). The spread is how much of each number above is the "
             "draw's luck.")
    def unseen(v: dict) -> str:
        return f"{v['loso_auc']['mean']:.1f}" if v.get("loso_auc") else "-"

    def matched(v: dict) -> str:
        return f"{v['tone_matched']['mean']:.1f}" if v.get("tone_matched") else "-"

    head = ("| network | mean AUC | mean AUC against left-out sources | mean AUC, tone-matched | worst AUC | mean share "
            "flagged (%) | held-out false alarms (%) | worst LOSO false alarms (%) |")
    L = ["### The same recipe with other seeds of the network", "", intro, "", head, "|---" * 8 + "|"]
    L += [f"| {k} | {v['mean']['auc']:.1f} | {unseen(v)} | {matched(v)} | {worst(v, 'worst', 'generator', 'auc')} | "
          f"{v['mean']['tpr']:.1f} | {v['heldout_far_all']:.1f} | {worst(v, 'loso_far_worst', 'source', 'far')} |"
          for k, v in rows.items()]
    L += ["", *_rank_line("AUC", shipped, sd["rows"], lambda v: v["mean"]["auc"])]
    if shipped.get("loso_auc") and all(v.get("loso_auc") for v in sd["rows"].values()):
        # A draw lucky on the fitted sources need not be on others: this is the number a user's photos meet.
        L += _rank_line("AUC against left-out sources", shipped, sd["rows"], lambda v: v["loso_auc"]["mean"])
    if shipped.get("tone_matched") and all(v.get("tone_matched") for v in sd["rows"].values()):
        # the part of the draw's luck that is not the generated faces' look (protocol.tone_matched)
        L += _rank_line("tone-matched AUC", shipped, sd["rows"], lambda v: v["tone_matched"]["mean"])
    L += ["Expect a fresh draw of this recipe - and new data - nearer the other seeds' mean.", ""]
    return L


def _rank_line(what: str, shipped: dict, others_rows: dict, get: Callable[[dict], float]) -> list[str]:
    """One sentence: the other seeds' mean and range of a number, and where the shipped draw ranks."""
    others = [get(v) for v in others_rows.values()]
    mine = get(shipped)
    rank = 1 + sum(a > mine for a in others)
    return [f"Mean {what} over the {len(others)} other seeds: **{sum(others) / len(others):.1f}** (range "
            f"{min(others):.1f}-{max(others):.1f}); the shipped seed ranks {rank} of {len(others) + 1} with {mine:.1f}."]


def _eval_rows(ev: dict | None) -> tuple[dict, dict]:
    r = (ev or {}).get("results", {}).get("none", {})
    return r.get("per_generator", {}), r.get("auc_by_real_source", {})


def write_card(run: RunConfig) -> Path:
    d = run.run_dir
    counts = _load(d / "data_counts.json") or {}
    ev = _load(d / "eval" / "results.json")
    ks = _load(d / "ksweep" / "results.json")
    ab = _load(d / "ablation" / "results.json")
    bl = _load(d / "baseline" / "results.json")
    art = _load(d / "artifact" / "config.json") or {}
    tr = art.get("training", {})
    p, g, c, a = run.pretext, run.gmm, run.crop, run.augment
    far = f"{g.far:.0%}"
    exif_names = [Path(f).name for f in run.data.exif]
    exif_faces = sum(counts.get("faces", {}).get(k, 0) for k in exif_names)
    exif_files = sum(counts.get("files", {}).get(k, 0) for k in exif_names)
    density = (f"a Gaussian mixture (K={g.n_components}, {g.covariance_type} covariance, reg_covar {g.reg_covar:g}"
               + (f", on the first {g.pca_dim} whitened principal components of the embedding" if g.pca_dim else "")
               + ")" + (f" times a second one with the same settings on the first {g.spectrum_dim} whitened principal "
                        "components of the crop's radially averaged log power spectrum" if g.spectrum_dim else "")
               + (f" times one on the first {g.ripple_dim} whitened principal components of the crop's spectral "
                  "ripple (its radially averaged log power spectrum minus the profile's own smoothed curve, so that "
                  "sharpening, blur and contrast cancel)" if g.ripple_dim else "")
               + (f" times one on the first {g.axis_dim} whitened principal components of the crop's axis profile "
                  "(per ring, the log power on the horizontal and vertical frequency axes over the ring's: "
                  "up-sampling traces are directional)" if g.axis_dim else "")
               + ("; a product of experts (`detector/spectrum.py`, `detector/product.py`): the score is the sum of "
                  "the log-likelihoods" if len(g.experts()) > 1 else ""))
    filt = ', fixed high-pass input filter' if p.input_filter == 'highpass' else ''
    if p.epochs:
        what = (f"The method of Zou et al. (ICASSP 2025): a {p.backbone} (random init, fc -> {p.embed_dim}{filt}) "
                "trained self-supervised on photographic faces only, with four EXIF-ranking heads (Thurstone + "
                "fidelity loss) and a manipulation head (eye flip, mouth flip H/V, piecewise-affine warp); ")
    else:
        what = ("The density half of the method of Zou et al. (ICASSP 2025) on an **untrained** network: a "
                f"{p.backbone} (fc -> {p.embed_dim}{filt}) at seeded random initialisation, with no pretext training. The "
                "method's self-supervised training (four EXIF-ranking heads, Thurstone + fidelity loss, and a "
                "manipulation head) is implemented (`train/pretext.py`, `train/configs/paper.toml`) but is not used "
                "here: trained from scratch on this data and CPU, it pushed the generators' AUCs below chance "
                "(docs/experiments/2026-12-01-generalization; the ablation below retrains it, shorter). The untrained "
                "network's features are random convolutional statistics of the crop, not learned camera traces. ")
    L = ["# Model card: default AI-generated face detector (`assets/default`)", "",
         "Generated by `python -m train card` from the result files of run "
         f"`{run.name}`; reproduce every number with `python -m train all --config train/configs/{run.name}.toml`.", "",
         "## What it is", "",
         what + (density[0].upper() + density[1:] if what.endswith(". ") else density)
         + f"{'' if len(g.experts()) > 1 else ' on the embeddings'}; a face is flagged when its log-likelihood is "
         f"below the {far} "
         "false-alarm threshold. **No AI-generated image was used to train the feature extractor or fit the "
         "mixture.**", ""]
    if ev:
        r = ev["results"]["none"]
        rows = {"this model": r, **ev.get("references", {}), **baseline_rows(bl)}
        L += ["## Headline: the validation protocol", "",
              f"Evaluation prep: {ev['evaluation_prep']}; then the model's own processing ({ev['matched_processing']}). "
              "Fake = positive class, scored by -log-likelihood (supervised rows: by their logit). Generators with "
              f"fewer than {MIN_FAKES_FOR_WORST} faces are reported with their count and are not eligible as the worst "
              "case. Leave-one-source-out (LOSO): for each real source, the mixture is fitted and the threshold "
              "calibrated without any face of it, and the share of its unseen faces flagged is reported; the network "
              "itself is shared (not retrained per source). The EXIF photo sources, which the mixture is fitted on "
              "whole, are left out the same way (every face of theirs, evaluation prep as above) in the rows whose "
              "network never trained on them. The validation fakes only choose and report: nothing is "
              "fitted on them.", "",
              *headline_table(rows), "",
              *(["Matched on tone: each generated face is ranked against the "
                 f"{TONE_NEIGHBOURS} held-out real faces nearest to it in mean brightness and the contrast of the "
                 "face's centre (`train.metrics.tone_stats`, on the crop the network sees). The generated faces here "
                 "are darker and more contrasty than the photographs, and a score can rank by that look alone; the "
                 "matched AUC is what the score sees besides it, and the false alarms among the least and the most "
                 "contrasty real faces are what the look costs a photograph (docs/experiments, tone-matched AUC).",
                 ""] if "tone_matched" in r else []),
              "Reference rows: the log-spectrum GMM (the radially averaged 2-D log power spectrum of each crop, a "
              "low-level statistic a learned feature should beat), "
              + ("the same network untrained (what pretext training adds), " if p.epochs else "") +
              "and supervised real-vs-one-generator classifiers on the same backbone (`train/baseline.py`; "
              "their false-alarm rate is at logit 0, not calibrated).", "",
              *unseen_comparison(r, bl), "",
              "### Leave-one-source-out false alarms (%), per real source", "",
              *loso_table(rows), "",
              *(["### Against photo sources the mixture never saw", "",
                 "The held-out AUCs above rank generated faces against faces of the very sources the mixture was "
                 "fitted on; a user's photo (and any separate evaluation) comes from other sources. Here each "
                 "generator is ranked against each left-out source's faces, both scored by the mixture fitted and "
                 f"calibrated without that source (sources with at least {MIN_REALS_FOR_AUC} faces).", "",
                 *unseen_source_table(r)] if r.get("loso_auc") else []),
              *seed_spread(r, p.seed, _load(d / "seeds" / "results.json"))]
    L += ["## Data", "", "| source | what | faces found | files without a usable face |", "|---|---|---|---|"]
    for k, n in counts.get("faces", {}).items():
        L.append(f"| {k} | {SOURCES.get(k.split('@')[0], '')} | {n} | {counts.get('files_without_face', {}).get(k, '')} |")
    L += ["", "Real faces are split by file (a salted hash of the file name), so no photo is in two splits:", "",
          "| source | " + " | ".join(sorted({s for v in counts.get('split', {}).values() for s in v})) + " |"]
    names = sorted({s for v in counts.get("split", {}).values() for s in v})
    L.append("|---" * (len(names) + 1) + "|")
    for k, v in counts.get("split", {}).items():
        L.append(f"| {k} | " + " | ".join(str(v.get(n, 0)) for n in names) + " |")
    cal, folds = ", ".join(run.data.calibrate_on), tr.get("calibration_folds")
    by_source = tr.get("calibrated_by") == "source"
    L += ["", ("Pretext training: the `pretext` split (+ all EXIF photos); " if p.epochs else "No pretext training; ")
          + f"GMM fit: {', '.join(run.data.gmm_from)}"
          + (f" + {cal}" if folds else "") + "; threshold calibration: "
          + ("every fit and calibration face, each scored by a mixture fitted without its photo source "
             f"({folds} sources)" if by_source else
             f"{cal}, cross-fitted in {folds} folds by file (each face scored by a mixture fitted "
             "without its fold)" if folds else cal or "the GMM fit scores") + "; evaluation: `heldout` "
          f"reals vs every AI-generated face ({', '.join(run.data.fake) or 'none'}: validation only).", "",
          "**Licences and biases.** None of these sets ships a data licence except WebMorph (CC-BY-4.0) and the "
          "SFHQ-T2I figures (MIT); the underlying sets carry research-only terms, so this model is for research and "
          "demonstration. The faces are mostly adult, frontal, well-lit and from web/celebrity collections (UTKFace "
          "covers ages and ethnicities more evenly); children, strong profiles, heavy make-up or filters, and camera "
          "types absent here are under-represented and more likely to be flagged.", "",
          "## Training", "",
          (f"- Pretext: {p.backbone}, {p.epochs} epochs, batch {p.batch_size}, AdamW lr {p.lr:g} (cosine) wd "
           f"{p.weight_decay:g}, manipulation probability {p.manip_prob}, ties {p.ties}, seed {p.seed}; "
           f"{training_time(d)}." if p.epochs else
           f"- Pretext: none (`[pretext] epochs = 0`); {p.backbone} weights from torch's default initialisation "
           f"with seed {p.seed}."),
          *([(f"- Benign processing of real faces (`train/augment.py`): with probability {a.prob:g} each training face "
              f"goes through {a.steps[0]}-{a.steps[1]} random operations (seen at {a.rescale[0]:g}-{a.rescale[1]:g} of "
              f"its resolution, JPEG q{a.jpeg[0]}-{a.jpeg[1]}, Gaussian blur sigma {a.blur[0]:g}-{a.blur[1]:g} px, "
              f"noise SD {a.noise[0]:g}-{a.noise[1]:g}), and the mixture is fitted and calibrated on every face plus "
              f"{a.copies} processed cop{'y' if a.copies == 1 else 'ies'} of it, so that re-compressed and resized "
              "photos stay inside the modelled distribution.")] if a.prob > 0 or a.copies else []),
          *([("- Input filter: high-pass (`detector.model.HighPass`: the crop minus its 5x5 binomial blur, a fixed layer "
              "in front of the ResNet, at training and inference alike). Not in the paper; see docs/experiments.")]
            if p.input_filter == "highpass" else []),
          f"- Preprocessing: square {c.scale:g}x landmark box, "
          + (f"rendered at most {c.face_px} px (`CropConfig.face_px`, a detail cap) then " if c.face_px else "")
          + f"{c.size} px, one JPEG q{c.jpeg_quality} re-encode before the network (train, fit, evaluation and "
          f"inference alike), CLIP normalisation; landmarks: {art.get('landmarks', run.data.backend)}.",
          f"- GMM: {density}; fitted on {sum((tr.get('gmm_fit_faces') or {'': 0}).values())} faces; threshold (the "
          f"{far} quantile) from {tr.get('calibration_faces', 0)} "
          + (f"out-of-source scores (one fold per photo source, {folds}: the {far} point of faces from a source the "
             "mixture has not seen; the final fit plus the fold fits took " if by_source else
             f"out-of-fold calibration scores ({folds} folds; the final fit plus the fold fits took "
             if folds else "calibration faces (fit took ")
          + f"{tr.get('gmm_fit_seconds', '?')} s).", ""]
    if ev:
        r = ev["results"]["none"]
        tm = r.get("tone_matched", {})
        L += ["## Per generator, this model", "",
              f"Acc is balanced accuracy (mean of real and fake accuracy) at the model's {far} threshold; the last "
              "column ranks each generated face against the real faces nearest to it in brightness and face contrast "
              "(see the headline).", "",
              "| generator | Acc | AP | AUC | AUC, tone-matched |", "|---|---|---|---|---|"]
        L += [_fmt_row(f"{k} (n={m['n_fake']})", m) + _matched(tm.get("per_generator", {}).get(k))
              for k, m in r["per_generator"].items()]
        L += [_fmt_row("**mean**", r["mean"]) + _matched(tm.get("mean")), "",
              f"False-alarm rate on {r['n_heldout']} held-out photographic faces (same sources as the fit, evaluation "
              f"prep): **{r['heldout_far_all']:.2f}%** (target {far}); per source: "
              + ", ".join(f"{k} {v:.1f}%" for k, v in r["heldout_far"].items()) + ".", "",
              "AUC of each generator against each held-out real source (below 50: that source's real faces look *less* "
              "photographic to the model than the generator's faces):", "",
              *source_auc_table(r), "",
              f"### Robustness (threshold unchanged; the degradation is applied to the face before the model's own "
              f"JPEG q{c.jpeg_quality})", "", "| degradation | mean Acc | mean AP | mean AUC | held-out FAR |",
              "|---|---|---|---|---|"]
        L += [f"| {k} | {v['mean']['acc']:.2f} | {v['mean']['ap']:.2f} | {v['mean']['auc']:.2f} | "
              f"{v['heldout_far_all']:.2f} |" for k, v in ev["results"].items()]
    if ks:
        L += ["", "### GMM components (same embeddings, fit faces and calibration)", "",
              "| K | mean Acc | mean AP | mean AUC |", "|---|---|---|---|"]
        L += [_fmt_row(k, v["mean"]) for k, v in ks.items()]
    if ab:
        L += ["", f"### Ablation: pretext tasks (epochs: {ab['epochs']} each; same data and settings)", "",
              "| pretext tasks | mean Acc | mean AP | mean AUC | held-out FAR | worst LOSO FAR |", "|---|---|---|---|---|---|"]
        L += [f"{_fmt_row(k, v['mean'])} {v['heldout_far_all']:.2f} | "
              + (f"{v['loso_far_worst']['far']:.1f} ({v['loso_far_worst']['source']})" if "loso_far_worst" in v else "-")
              + " |" for k, v in ab["rows"].items()]
    if bl:
        L += ["", "### Supervised binary baselines per generator (Acc at logit 0)", ""]
        for k, v in bl.items():
            L += [f"{k}:", "", markdown_table({k: v["per_generator"]}), ""]
    if ev and ev.get("figures", {}).get("tsne"):
        shutil.copy(ev["figures"]["tsne"], d / "tsne.png")
        L += ["", "### t-SNE of embeddings (held-out photographic vs AI-generated)", "", "![t-SNE](tsne.png)"]
    measured = ", ".join(run.data.fake) or "none"
    L += ["", "## What this data cannot support", "",
          f"- The EXIF ranking tasks see {exif_faces} faces from {exif_files} photos with EXIF, against the paper's "
          "~200,000 FDF faces with EXIF: the camera-related features the method relies on can only be learned "
          "weakly here.",
          (f"- Training ran for {training_time(d)} from random initialisation; the paper starts from "
           "EXIF-as-language ResNet-50 weights and trains 20 epochs at batch 256 on GPUs." if p.epochs else
           "- The network is untrained: nothing here tests the paper's claim that its pretext tasks teach camera "
           "traces. The paper starts from EXIF-as-language ResNet-50 weights and trains 20 epochs at batch 256 on "
           "GPUs; `python -m train import` loads the authors' released checkpoint instead."),
          "- Most real faces here are small web images (128-250 px, often JPEG'd more than once); sharper, cleaner "
          "photos (recent phones, studio portraits) are rarer in the fit set. The leave-one-source-out rates above are "
          "the best guide to the false-alarm rate on your own photos; expect more on sources unlike all of these.",
          (f"- Faces narrower than {SMALL_FACE_PX} px (group photos, thumbnails) reach the model with little detail and "
           "look photographic to it whatever made them: generated faces that small are rarely flagged, so the detector "
           "adds a caution to every such face (docs/experiments, small faces)."),
          ("- Ordinary photo edits are the likeliest false alarm: sharpening (a phone's default unsharp mask), a "
           "contrast boost or local contrast equalisation, and a greyscale conversion push real faces of a source the "
           "model never saw below the threshold far more often than JPEG or resizing do (docs/experiments, photo "
           "edits, has the rates per edit and source). A black-and-white face gets a caution: greyscale copies of "
           "real faces of a source the mixture never saw were flagged several times as often as the threshold's "
           "rate (docs/experiments, calibration copies and greyscale density)."),
          (f"- Faces cut tightly by the photo's frame (at least {PADDED_SHARE:.0%} of the face square outside the "
           "photo, filled in by repeating its edge: close-up chips, a face at the photo's edge) are flagged more often "
           "than the threshold's rate - UTKFace's tight chips with UTKFace left out, and camera portraits cut tightly "
           "around the face - so each gets a caution; mirroring the photo into the square or moving the square into "
           "the photo did not help (docs/experiments, crop padding)."),
          *([("- Strong light and shade on a face look generated to this model: the generated faces of the validation "
              "are more contrasty than the photographs, and of the held-out real faces the most contrasty tenth is "
              "flagged at {far_high_contrast:.1f}%, the least contrasty at {far_low_contrast:.1f}%. Matched on "
              "brightness and face contrast, the mean AUC is {mean:.1f} instead of "
              ).format(**ev["results"]["none"]["tone_matched"]) + f"{ev['results']['none']['mean']['auc']:.1f}."]
            if ev and "tone_matched" in ev["results"]["none"] else []),
          *[(f"- **Not detected: {g}.** Its faces score at or near chance ({rows}): they mostly pass as "
             "photographs, and faces from generators like it should be expected to pass too.")
            for g, rows in missed_generators(*_eval_rows(ev)).items()],
          f"- Generators measured: {measured}. Every other generator (Midjourney, Imagen, GPT-4o / DALL-E at full "
          "size, newer GANs, ...) is unmeasured here; a model that passes this protocol can still miss them.",
          "", "## What the paper reports at full scale", "",
          "Average over nine generators (StyleGAN2, VQGAN, LDM, DDIM, SDv2.1, FreeDoM, HPS, Midjourney, SDXL), 5,000 "
          "real test faces: Acc 86.63, AP 93.01 (Table I), AUC 93.43 (Table II); GMM on CLIP features AUC 76.13, "
          "FaRL 75.12, EXIF-as-language 84.12, ranking only 85.49; the best binary baseline (FRDM) Acc 82.61 / AP 97.45.",
          ""]
    out = d / "MODEL_CARD.md"
    out.write_text("\n".join(L))
    return out


README_START = ("<!-- model-summary: written by `python -m train.card --readme README.md` from assets/default; "
                "do not edit -->")
README_END = "<!-- /model-summary -->"


def readme_summary(artifact: Path) -> str:
    """The README's paragraph on the shipped model, every number and setting read from its artifact folder."""
    cfg = json.loads((artifact / "config.json").read_text())
    s = json.loads((artifact / "eval_summary.json").read_text())
    tr, m, c = cfg.get("training", {}), cfg["model"], cfg["crop"]
    p, g = tr.get("pretext", {}), tr.get("gmm", {})
    net = (f"a {m['backbone']} at seeded random initialisation, **without pretext training** (the method's "
           "self-supervised training, run from scratch on a CPU, pushed the validation AUCs below chance; see the "
           "card)"
           if p.get("epochs") == 0 else
           f"a {m['backbone']} trained self-supervised for {p.get('epochs')} epochs from random initialisation")
    inputs = ("high-pass" if m.get("input_filter") == "highpass" else "RGB") + " input" + (
        f", faces rendered at most {c['face_px']} px" if c.get("face_px") else "")
    density = (("a product of experts (log-likelihoods summed): " if len(GMMConfig(**g).experts()) > 1 else "")
               + f"a K={g.get('n_components')} Gaussian mixture"
               + (f" on {g['pca_dim']} whitened principal components" if g.get("pca_dim") else "")
               + (f", times a mixture on {g['spectrum_dim']} principal components of the crop's log power spectrum"
                  if g.get("spectrum_dim") else "")
               + (f", times a mixture on {g['ripple_dim']} principal components of the crop's spectral ripple (its "
                  "radially averaged log power spectrum minus a smoothed copy of it)" if g.get("ripple_dim") else "")
               + (f", and one on {g['axis_dim']} of the crop's axis profile (the spectrum's power on the frequency "
                  "axes)" if g.get("axis_dim") else ""))
    gens = s["per_generator"]
    w, lw = s.get("worst") or {}, s.get("loso_far_worst")
    text = (f"It is {net}; {inputs}; {density}, fitted on {sum(tr.get('gmm_fit_faces', {}).values())} photographic "
            f"faces. Measured (device: {s.get('measured_on', 'not recorded')}) with the validation protocol "
            f"({s.get('evaluation_prep', '')}"
            + "".join(f"; each generator also at {v}" for v in dict.fromkeys(k.split("@")[1] for k in gens if "@" in k))
            + f"; 'worst' ignores generators with "
            f"under {MIN_FAKES_FOR_WORST} faces): mean AUC **{s['mean']['auc']:.2f}** over {len(gens)} generator rows "
            f"({', '.join(dict.fromkeys(k.split('@')[0] for k in gens))}), worst **{w.get('auc', float('nan')):.2f}** "
            f"({w.get('generator')}); **{s['heldout_far']:.2f}%** of {s['n_heldout']} held-out photographic faces "
            f"flagged at the {g.get('far', float('nan')):.0%} false-alarm threshold")
    if lw:
        text += (f"; with each real source left out of the fit, up to **{lw['far']:.2f}%** of its faces flagged "
                 f"({lw['source']})")
    ua = s.get("loso_auc")
    if ua:
        text += (f"; against the faces of a source left out of the fit, mean AUC **{ua['mean']:.2f}** (worst: "
                 "{generator} against {source} faces, {auc:.2f})".format(**ua["worst_cell"]))
    tm = s.get("tone_matched")
    if tm:
        text += (f"; against real faces of the same brightness and face contrast, mean AUC **{tm['mean']:.2f}** (the "
                 "generated faces here are more contrasty than the photographs: the most contrasty tenth of held-out "
                 f"real faces is flagged at {tm['far_high_contrast']:.2f}%, the least at "
                 f"{tm['far_low_contrast']:.2f}%)")
    missed = s.get("not_detected") or missed_generators(gens)
    if missed:
        text += ". Not detected (a size with AUC below " + f"{NEAR_CHANCE_AUC:g}): " + "; ".join(
            f"{g} ({rows})" for g, rows in missed.items())
    return text + ". Generators not listed were never measured."


def update_readme(readme: Path, artifact: Path) -> bool:
    """Rewrite the generated paragraph between the README's markers; True when it changed."""
    text = readme.read_text()
    a, b = text.index(README_START) + len(README_START), text.index(README_END)
    new = text[:a] + "\n" + readme_summary(artifact) + "\n" + text[b:]
    readme.write_text(new)
    return new != text


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(prog="python -m train.card", description=update_readme.__doc__)
    ap.add_argument("--readme", type=Path, required=True)
    ap.add_argument("--artifact", type=Path, default=Path(__file__).resolve().parent.parent / "assets" / "default")
    args = ap.parse_args()
    print("updated" if update_readme(args.readme, args.artifact) else "unchanged", args.readme)
