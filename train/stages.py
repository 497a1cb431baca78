"""The stages of `python -m train`: cache -> pretext -> gmm -> evaluate (+ ablation, ksweep, baseline).

Run layout (runs/<name>/):
    pretext/    checkpoint.pt, model.safetensors, log.csv, pretext_config.json
    embeddings/ cached embeddings per (weights, face set, degradation)
    artifact/   the folder detector.Detector loads (copy it to assets/default to ship it)
    eval/       results.json, results.md, tsne.png, umap.png
    ablation/, baseline/   the paper's comparisons
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from detector.anomaly import AnomalyModel, GMMConfig
from detector.artifact import save_artifact
from detector.pipeline import Detector

from .cache import FaceSet, build_cache, file_folds, split_mask
from .config import RunConfig, save_json
from .embed import cached_embeddings, weights_key
from .metrics import detection_metrics, markdown_table, mean_metrics, source_auc_table
from .pretext import load_weights, random_init_weights, train_pretext


@dataclass
class Sets:
    """Cached faces of every configured folder, and the by-file splits of the real ones."""

    real: dict[str, FaceSet]
    exif: dict[str, FaceSet]
    fake: dict[str, FaceSet]
    run: RunConfig

    def split(self, name: str) -> dict[str, FaceSet]:
        d = self.run.data
        out = {k: fs.subset(np.nonzero(split_mask(fs, d.split, d.split_seed)[name])[0]) for k, fs in self.real.items()
               if name in d.split}
        out.update({k: fs.subset(np.nonzero(split_mask(fs, d.exif_split, d.split_seed)[name])[0])
                    for k, fs in self.exif.items() if name in d.exif_split})
        return {k: v for k, v in out.items() if len(v)}

    def counts(self) -> dict:
        d = self.run.data
        names = sorted(set(d.split) | set(d.exif_split))
        per = {k: {n: len(v) for n, v in [(n, self.split(n).get(k)) for n in names] if v is not None}
               for k in [*self.real, *self.exif]}
        every = {**self.real, **self.exif, **self.fake}
        return {"faces": {k: len(v) for k, v in every.items()}, "files": {k: len(v.files) for k, v in every.items()},
                "files_without_face": {k: len(v.skipped) for k, v in every.items()},
                "split": per}


def stage_cache(run: RunConfig) -> Sets:
    d = run.data
    common = dict(cache_dir=d.cache_dir, crop=run.crop, backend=d.backend, limit=d.limit, workers=d.workers)
    real = {Path(f).name: build_cache(f, faces="largest", **common) for f in d.real}
    exif = {Path(f).name: build_cache(f, faces="all", min_side=d.exif_min_side, **common) for f in d.exif}
    fake = {name: build_cache(f, faces="largest", **common) for name, f in d.fake.items()}
    sets = Sets(real, exif, fake, run)
    save_json(sets.counts(), run.run_dir / "data_counts.json")
    return sets


def stage_pretext(run: RunConfig, sets: Sets, resume: bool = False, out: Path | None = None, cfg=None) -> Path:
    out = out or run.run_dir / "pretext"
    train_sets = list(sets.split("pretext").values())
    return train_pretext(run, train_sets, out, resume=resume, cfg=cfg)


def _detector(run: RunConfig, weights: Path, cfg=None) -> Detector:
    model = load_weights(weights, cfg or run.pretext)
    return Detector(model, None, run.crop, run.data.backend)


def embeddings(run: RunConfig, det: Detector, wkey: str, faces: dict[str, FaceSet], prefix: str,
               degrade: str = "none") -> dict[str, np.ndarray]:
    cache = run.run_dir / "embeddings"
    # the weights hash alone does not name the model: the input filter has no weights, and the crop settings matter
    tag = hashlib.sha1(json.dumps([det.model.cfg.to_dict(), det.crop_cfg.to_dict()], sort_keys=True).encode()).hexdigest()[:6]
    return {k: cached_embeddings(det, fs.crops, cache, f"{wkey}{tag}-{prefix}-{k}-{_members(fs)}", degrade)
            for k, fs in faces.items()}


def _members(fs: FaceSet) -> str:
    """Which faces a set holds, so that a split changed in the config never reuses another split's embeddings."""
    return hashlib.sha1(np.ascontiguousarray(fs.file_idx, dtype=np.int64).tobytes()).hexdigest()[:8]


def gmm_faces(run: RunConfig, det: Detector, wkey: str, sets: Sets,
              folds: int) -> tuple[dict, dict, np.ndarray | None]:
    """Embeddings the mixture is fitted on and those that set its threshold ({split/source: array}), and the
    calibration faces' fold ids (by file) when they are cross-fitted (folds >= 2), else None."""
    fit, calib, fold_ids = {}, {}, []
    for split in run.data.gmm_from:
        fit.update({f"{split}/{k}": v for k, v in embeddings(run, det, wkey, sets.split(split), split).items()})
    for split in run.data.calibrate_on:
        faces = sets.split(split)
        calib.update({f"{split}/{k}": v for k, v in embeddings(run, det, wkey, faces, split).items()})
        fold_ids += [file_folds(fs, folds, run.data.split_seed) for fs in faces.values()]
    return fit, calib, np.concatenate(fold_ids) if calib and folds >= 2 else None


def stage_gmm(run: RunConfig, sets: Sets, weights: Path | None = None, out: Path | None = None,
              gmm_cfg: GMMConfig | None = None, pretext_cfg=None) -> Path:
    """Embed the GMM-fit reals, fit the mixture, set the threshold, write the artifact folder."""
    weights = weights or run.run_dir / "pretext" / "model.safetensors"
    out = out or run.run_dir / "artifact"
    gmm_cfg = gmm_cfg or run.gmm
    if set(run.data.gmm_from) & set(run.data.calibrate_on):
        raise ValueError("a split cannot both fit the GMM and set its threshold: the threshold would be optimistic")
    det = _detector(run, weights, pretext_cfg)
    wkey = weights_key(weights)
    fit, calib, folds = gmm_faces(run, det, wkey, sets, gmm_cfg.calib_folds)
    z = np.concatenate(list(fit.values()))
    crossfit = folds is not None
    t = time.perf_counter()
    anomaly = AnomalyModel.fit(z, gmm_cfg, calibration=np.concatenate(list(calib.values())) if calib else None,
                               calibration_folds=folds)
    fit_s = time.perf_counter() - t
    rng = np.random.default_rng(0)
    ref = z[rng.permutation(len(z))[: run.eval.reference_points]].astype(np.float16)
    fitted = {**fit, **calib} if crossfit else fit  # cross-fitted calibration faces join the final fit
    extra = {"training": {"run": run.name, "weights_sha1": wkey,
                          "gmm_fit_faces": {k: len(v) for k, v in fitted.items()},
                          "threshold_from": list(run.data.calibrate_on) or "gmm fit scores",
                          "calibration_faces": int(sum(len(v) for v in calib.values())),
                          "calibration_folds": gmm_cfg.calib_folds if crossfit else 0,
                          "gmm_fit_seconds": round(fit_s, 2), "pretext": (pretext_cfg or run.pretext).__dict__,
                          "gmm": gmm_cfg.to_dict()}}
    save_artifact(out, det.model, anomaly, run.crop, run.data.backend, extra=extra, fp16=True,
                  reference={"real": ref})
    return out


def _scores(run: RunConfig, det: Detector, wkey: str, sets: Sets, degrade: str) -> tuple[dict, dict]:
    held = embeddings(run, det, wkey, sets.split("heldout"), "heldout", degrade)
    fake = embeddings(run, det, wkey, sets.fake, "fake", degrade)
    return ({k: det.anomaly.score(v) for k, v in held.items()}, {k: det.anomaly.score(v) for k, v in fake.items()})


def load_for_eval(artifact: Path) -> tuple[Detector, str]:
    """The artifact's Detector and its weights key (which names its cached embeddings), loaded once."""
    return Detector.load(artifact), weights_key(artifact / "model.safetensors")


def evaluate_artifact(run: RunConfig, sets: Sets, det: Detector, wkey: str, degrades=("none",)) -> dict:
    """Per-generator Acc/AP/AUC and held-out false alarms, for each degradation."""
    thr = det.anomaly.threshold()
    out = {}
    for deg in degrades:
        real, fake = _scores(run, det, wkey, sets, deg)
        all_real = np.concatenate(list(real.values()))
        per = {g: detection_metrics(all_real, s, thr) for g, s in fake.items()}
        by_source = {g: {k: detection_metrics(v, s, thr)["auc"] for k, v in real.items()} for g, s in fake.items()}
        out[deg] = {"per_generator": per, "mean": mean_metrics(per), "auc_by_real_source": by_source,
                    "heldout_far": {k: 100 * float(np.mean(v < thr)) for k, v in real.items()},
                    "heldout_far_all": 100 * float(np.mean(all_real < thr)), "n_heldout": int(len(all_real))}
    return out


def stage_evaluate(run: RunConfig, sets: Sets, artifact: Path | None = None) -> dict:
    artifact = artifact or run.run_dir / "artifact"
    ev = run.eval
    degrades = ("none", *[f"jpeg{q}" for q in ev.robustness_jpeg], *[f"down{f:g}" for f in ev.robustness_downscale])
    det, wkey = load_for_eval(artifact)
    res = evaluate_artifact(run, sets, det, wkey, degrades)
    results = {"artifact": str(artifact), "threshold": det.anomaly.threshold(),
               "fake_is_positive": True, "acc_is_balanced": True, "matched_processing":
               f"face crop 1.3x -> 224 -> one JPEG q{run.crop.jpeg_quality} for real and fake", "results": res,
               "data": sets.counts()}
    write_app_extras(run, sets, artifact, det, wkey, res["none"])
    figs = {}
    if ev.figures and sets.fake:
        figs = make_figures(run, sets, det, wkey)
    results["figures"] = figs
    out = run.run_dir / "eval"
    save_json(results, out / "results.json")
    (out / "results.md").write_text(results_markdown(results))
    return results


def write_app_extras(run: RunConfig, sets: Sets, artifact: Path, det: Detector, wkey: str, res: dict) -> None:
    """Add a sample of AI-generated embeddings to reference.npz (for the app's map; never used to fit anything)
    and the headline numbers to eval_summary.json (for the app's About tab)."""
    from detector.artifact import load_reference

    ref = load_reference(artifact)
    rng = np.random.default_rng(1)
    n = max(1, run.eval.reference_points // max(1, len(sets.fake)) // 2)
    fakes = {g: z[rng.permutation(len(z))[:n]] for g, z in embeddings(run, det, wkey, sets.fake, "fake").items()}
    if fakes:
        ref["fake"] = np.concatenate(list(fakes.values())).astype(np.float16)
        ref["fake_labels"] = np.concatenate([np.full(len(z), g) for g, z in fakes.items()])
        np.savez_compressed(artifact / "reference.npz", **ref)
    save_json({"per_generator": {g: {k: round(m[k], 2) for k in ("acc", "ap", "auc")}
                                 for g, m in res["per_generator"].items()},
               "mean": {k: round(v, 2) for k, v in res["mean"].items()},
               "heldout_far": round(res["heldout_far_all"], 2), "n_heldout": res["n_heldout"],
               "matched_processing": f"one JPEG q{run.crop.jpeg_quality} re-encode of every face crop"},
              artifact / "eval_summary.json")


def make_figures(run: RunConfig, sets: Sets, det: Detector, wkey: str) -> dict[str, str]:
    from .figures import embedding_map

    held = np.concatenate(list(embeddings(run, det, wkey, sets.split("heldout"), "heldout").values()))
    fake = embeddings(run, det, wkey, sets.fake, "fake")
    rng = np.random.default_rng(0)
    n = run.eval.figure_points
    groups = {"photographic (held out)": held[rng.permutation(len(held))[:n]]}
    groups.update({f"AI: {g}": z[rng.permutation(len(z))[:n]] for g, z in fake.items()})
    paths = {}
    for method in run.eval.figures:
        p = embedding_map(groups, method, run.run_dir / "eval" / f"{method}.png",
                          f"{method.upper()} of embeddings ({run.name})")
        paths[method] = str(p)
    return paths


def results_markdown(results: dict) -> str:
    res = results["results"]
    lines = [f"# Evaluation of `{results['artifact']}`", "",
             f"Matched processing: {results['matched_processing']}. Fake = positive class scored by -log-likelihood; "
             "Acc is balanced accuracy at the artifact's 5%-false-alarm threshold.", "",
             "## Per generator (no degradation)", "",
             markdown_table({"this model": res["none"]["per_generator"]}),
             "", f"Mean: Acc {res['none']['mean']['acc']:.2f}, AP {res['none']['mean']['ap']:.2f}, "
                 f"AUC {res['none']['mean']['auc']:.2f}", "",
             f"False-alarm rate on {res['none']['n_heldout']} held-out photographic faces: "
             f"{res['none']['heldout_far_all']:.2f}% (target 5%); per source: "
             + ", ".join(f"{k} {v:.1f}%" for k, v in res["none"]["heldout_far"].items()), "",
             "AUC of each generator against each held-out real source:", "",
             *source_auc_table(res["none"]), "",
             "## Robustness (threshold unchanged)", "", "| degradation | mean Acc | mean AP | mean AUC | held-out FAR |",
             "|---|---|---|---|---|"]
    for deg, r in res.items():
        lines.append(f"| {deg} | {r['mean']['acc']:.2f} | {r['mean']['ap']:.2f} | {r['mean']['auc']:.2f} | "
                     f"{r['heldout_far_all']:.2f} |")
    for k, p in results.get("figures", {}).items():
        lines += ["", f"![{k}]({Path(p).name})"]
    return "\n".join(lines) + "\n"


def stage_ksweep(run: RunConfig, sets: Sets, weights: Path | None = None) -> dict:
    """GMM K sweep on the same embeddings (paper Table III): Acc/AP/AUC per K."""
    weights = weights or run.run_dir / "pretext" / "model.safetensors"
    det = _detector(run, weights)
    wkey = weights_key(weights)
    fit, calib, folds = gmm_faces(run, det, wkey, sets, run.gmm.calib_folds)
    # the faces the shipped mixture is fitted on (cross-fitted calibration faces included), so K=8 is the shipped row
    fit = np.concatenate([*fit.values(), *(calib.values() if folds is not None else [])])
    held = np.concatenate(list(embeddings(run, det, wkey, sets.split("heldout"), "heldout").values()))
    fake = embeddings(run, det, wkey, sets.fake, "fake")
    rows = {}
    for k in run.eval.ksweep:
        m = AnomalyModel.fit(fit, replace(run.gmm, n_components=k))
        thr = m.threshold()
        per = {g: detection_metrics(m.score(held), m.score(z), thr) for g, z in fake.items()}
        rows[f"K={k}"] = {"per_generator": per, "mean": mean_metrics(per)}
    save_json(rows, run.run_dir / "ksweep" / "results.json")
    (run.run_dir / "ksweep" / "results.md").write_text(
        "# GMM K sweep\n\n" + markdown_table({k: v["per_generator"] for k, v in rows.items()}) + "\n\n"
        + "\n".join(f"- {k}: mean AUC {v['mean']['auc']:.2f}, AP {v['mean']['ap']:.2f}, Acc {v['mean']['acc']:.2f}, "
                    f"held-out FAR {v['mean']['far']:.2f}%" for k, v in rows.items()) + "\n")
    return rows


ABLATIONS = {"ranking only": ("ranking",), "manipulation only": ("manipulation",),
             "ranking + manipulation": ("ranking", "manipulation")}


def stage_ablation(run: RunConfig, sets: Sets) -> dict:
    """Train, fit and evaluate each pretext-task subset (paper Table III)."""
    rows = {}
    epochs = run.ablation.epochs or run.pretext.epochs
    for label, tasks in ABLATIONS.items():
        slug = "_".join(tasks)
        base = run.run_dir / "ablation" / slug
        cfg = replace(run.pretext, tasks=tasks, epochs=epochs)
        if cfg == run.pretext and (run.run_dir / "artifact" / "config.json").is_file():
            artifact = run.run_dir / "artifact"  # the main run is this ablation row
        else:
            weights = base / "pretext" / "model.safetensors"
            if not weights.is_file():
                weights = stage_pretext(run, sets, resume=True, out=base / "pretext", cfg=cfg)
            artifact = stage_gmm(run, sets, weights, base / "artifact", pretext_cfg=cfg)
        rows[label] = evaluate_artifact(run, sets, *load_for_eval(artifact))["none"]
    # Controls: the same architecture untrained (seeded), with the configured input and with plain RGB input.
    for filt in dict.fromkeys((run.pretext.input_filter, "none")):
        cfg = replace(run.pretext, input_filter=filt)
        base = run.run_dir / "ablation" / f"random_init_{filt}"
        artifact = stage_gmm(run, sets, random_init_weights(cfg, base / "pretext"), base / "artifact", pretext_cfg=cfg)
        rows[f"no pretext training (random init, input filter {filt})"] = evaluate_artifact(
            run, sets, *load_for_eval(artifact))["none"]
    save_json({"epochs": epochs, "rows": rows}, run.run_dir / "ablation" / "results.json")
    (run.run_dir / "ablation" / "results.md").write_text(
        f"# Ablation: pretext tasks ({epochs} epochs each)\n\n" + markdown_table({k: v["per_generator"] for k, v in rows.items()}) + "\n\n"
        + "\n".join(f"- {k}: mean AUC {v['mean']['auc']:.2f}, AP {v['mean']['ap']:.2f}, Acc {v['mean']['acc']:.2f}, "
                    f"held-out FAR {v['heldout_far_all']:.2f}%" for k, v in rows.items()) + "\n")
    return rows
