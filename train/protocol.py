"""The validation protocol every choice is made on, and the model card's headline.

Hard on purpose: a number that only holds on two generators, or on real faces of the very sources the mixture was
fitted on, says little about the world. So:
- generators: every configured generator (sd21, stylegan3, the t2i set, ...), at native size and rescaled
  (DataConfig.fake_scales), against the held-out real faces; real and fake images alike re-encoded once as JPEG
  at the image level before face detection (DataConfig.eval_jpeg). AUC, AP and Acc at the threshold per
  generator, their mean, and the worst AUC (over generators with at least MIN_FAKES_FOR_WORST faces).
- leave-one-source-out false alarms: for each real source, the density fitted and the threshold calibrated
  without any face of that source, then the share of its faces that nothing was fitted on (every split but
  pretext and the density's fit splits; evaluation prep) flagged. Every source and the worst. The feature
  extractor is shared (retraining it per source would multiply training time by the number of sources). The EXIF
  photo sources, fitted on whole, count too when the network did not train on them (an untrained network, or a
  reference without one): every one of their faces, after the same evaluation prep - the camera-photo sources are
  the data's nearest thing to the web photos of an unseen source.
- AUC against left-out sources: each generator against each left-out source's faces, both scored by the density
  fitted and calibrated without that source. The held-out AUCs rank generated faces against real faces of the very
  sources the mixture was fitted on; an unseen photo source is what a user brings (and what a separate evaluation
  has), so the mean over sources of this AUC is the headline's unseen-source AUC, and its worst cell is reported.
- tone-matched AUC: each generated face against the held-out real faces nearest to it in brightness and face
  contrast (train.metrics.tone_stats). The validation's generated faces are darker and more contrasty than the
  photos; this AUC is what a score sees besides that look, and the held-out false alarms among the most and the
  least contrasty real faces say what the look costs a user.
- reference rows under the same protocol (train.reference): a log-spectrum GMM, the untrained network, and the
  supervised baseline.

Features enter as a `Featurize` function, so the same protocol measures the network, the references and any
experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from detector.anomaly import GMMConfig
from detector.crop import finish
from detector.product import Density, fit_density

from .cache import FaceSet, file_folds
from .metrics import detection_metrics, mean_metrics, tone_matched_auc, tone_stats

# (faces by source, degradation name) -> features by source
Featurize = Callable[[dict[str, FaceSet], str], dict[str, np.ndarray]]
MIN_FAKES_FOR_WORST = 30  # DALL-E 3 has 9 faces: reported with its count, too few to be the worst case
MIN_REALS_FOR_AUC = 30  # a left-out source with fewer faces (the 21 'camera' faces) gets a false-alarm rate, no AUC
NEAR_CHANCE_AUC = 60.0  # a generator row (with enough faces) below this AUC is reported as not detected


@dataclass
class DensityData:
    """Features the density is fitted on and those that set its threshold, per real source, the calibration
    faces' fold ids (by file) when they are cross-fitted (None otherwise), and the feature blocks' widths when the
    features hold more than the embedding (for a product of experts, detector.product)."""

    fit: dict[str, np.ndarray]
    calib: dict[str, np.ndarray]
    folds: dict[str, np.ndarray] | None
    widths: dict[str, int] | None = None

    def fit_model(self, cfg: GMMConfig, leave_out: str | None = None) -> Density:
        """The anomaly model on every source but `leave_out`, calibrated as `cfg.calib_by` says."""
        def keep(d: dict[str, np.ndarray]) -> list[np.ndarray]:
            return [v for k, v in d.items() if k != leave_out and len(v)]

        if cfg.calib_by == "source":
            return self._by_source(cfg, leave_out)
        if cfg.calib_by != "file":
            raise ValueError(f"calib_by must be 'file' or 'source', got {cfg.calib_by!r}")
        fit = np.concatenate(keep(self.fit))
        if not self.calib:
            return fit_density(fit, cfg, self.widths)
        folds = np.concatenate(keep(self.folds)) if self.folds else None
        return fit_density(fit, cfg, self.widths, calibration=np.concatenate(keep(self.calib)),
                           calibration_folds=folds)

    def _by_source(self, cfg: GMMConfig, leave_out: str | None) -> Density:
        """Every face of every source (fit and calibration splits) is a reference score, given by a mixture fitted
        on all the other sources; the final mixture is fitted on all of them. Why: cross-fitting by file scores
        faces of sources the mixture has seen, and on sources it has not (the leave-one-source-out check) the 5%
        threshold flagged up to 13% (docs/experiments/2026-12-01-random-features)."""
        z, folds = self.by_source(leave_out)
        return fit_density(z[:0], cfg, self.widths, calibration=z, calibration_folds=folds)

    def by_source(self, leave_out: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every fit and calibration face of every source but `leave_out`, and a fold id per face: its source."""
        sources = [k for k in dict.fromkeys([*self.fit, *self.calib]) if k != leave_out]
        faces = [np.concatenate([d[k] for d in (self.fit, self.calib) if k in d]) for k in sources]
        faces = [z for z in faces if len(z)]
        if len(faces) < 2:
            raise ValueError("calibration by source needs faces of at least two sources")
        folds = np.concatenate([np.full(len(z), i) for i, z in enumerate(faces)])
        return np.concatenate(faces), folds

    def counts(self) -> dict[str, dict[str, int]]:
        return {"fit": {k: len(v) for k, v in self.fit.items()}, "calib": {k: len(v) for k, v in self.calib.items()}}


def density_data(run, sets, feats: Featurize, folds: int, copies: int = 0,
                 widths: dict[str, int] | None = None) -> DensityData:
    """Features of the configured fit splits (DataConfig.gmm_from) and calibration splits (calibrate_on), by source,
    each face as stored plus `copies` benignly processed copies (train.augment; a copy keeps its face's fold);
    `widths`: the blocks of the features' columns, if more than the embedding."""
    d = run.data
    fit: dict[str, list] = {}
    calib: dict[str, list] = {}
    fold_ids: dict[str, list] = {}
    versions = ["none", *[f"benign{c}" for c in range(copies)]]
    for split in d.gmm_from:
        for version in versions:
            for k, v in feats(sets.split(split), version).items():
                fit.setdefault(k, []).append(v)
    for split in d.calibrate_on:
        faces = sets.split(split)
        for version in versions:
            for k, v in feats(faces, version).items():
                calib.setdefault(k, []).append(v)
                fold_ids.setdefault(k, []).append(file_folds(faces[k], folds, d.split_seed))
    cat = lambda m: {k: np.concatenate(v) for k, v in m.items()}  # noqa: E731
    return DensityData(cat(fit), cat(calib), cat(fold_ids) if calib and folds >= 2 else None, widths)


def unseen_splits(run) -> list[str]:
    """Real splits nothing is fitted on: not pretext training, not the density's fit."""
    return [s for s in run.data.split if s != "pretext" and s not in run.data.gmm_from]


def loso_test_faces(run, sets, data: DensityData, network_trained: bool = True) -> dict[str, list[FaceSet]]:
    """Per real source, the faces its leave-one-source-out check scores (evaluation prep): a face set's splits that
    nothing was fitted on; with `network_trained` False, also every face of each EXIF photo source the density
    is fitted on (they are all in the pretext split, so only a network that never trained sees them as new)."""
    unseen = [sets.split(s, evaluation=True) for s in unseen_splits(run)]
    out = {source: [u[source] for u in unseen if source in u and len(u[source])] for source in sets.real_eval}
    if not network_trained:
        out.update({k: [fs] for k, fs in sets.exif_eval.items()
                    if len(fs) and (k in data.fit or k in data.calib)})
    return {k: v for k, v in out.items() if v}


def leave_one_source_out(run, sets, feats: Featurize, data: DensityData, cfg: GMMConfig,
                         network_trained: bool = True,
                         fakes: dict[str, np.ndarray] | None = None) -> dict[str, dict]:
    """{source: {"far": % of its unseen faces flagged by a density fitted and calibrated without it, "n": faces}}
    (which faces: loso_test_faces); with `fakes` ({generator: features}) and at least MIN_REALS_FOR_AUC faces, also
    "auc": {generator: AUC (%) of its faces against the source's, both scored by that density}."""
    out = {}
    for source, faces in loso_test_faces(run, sets, data, network_trained).items():
        others_fit = [k for k, v in data.fit.items() if k != source and len(v)]
        others_cal = [k for k, v in data.calib.items() if k != source and len(v)]
        if not others_fit or (data.calib and not others_cal):
            continue  # nothing left to fit or calibrate on without this source
        z = np.concatenate([feats({source: fs}, "none")[source] for fs in faces])
        m = data.fit_model(cfg, leave_out=source)
        real = m.score(z)
        out[source] = {"far": 100 * float(np.mean(real < m.threshold())), "n": int(len(z))}
        if fakes and len(z) >= MIN_REALS_FOR_AUC:
            out[source]["auc"] = {g: detection_metrics(real, m.score(f), m.threshold())["auc"]
                                  for g, f in fakes.items()}
    return out


def unseen_source_auc(per_source: dict[str, dict], per_generator: dict[str, dict]) -> dict:
    """From leave_one_source_out's AUCs: each generator's mean AUC over the left-out sources, the mean over
    generators, the worst generator (by that mean, among the rows worst_generator may name: _worst_case_rows of
    `per_generator`, the protocol's rows for the same fakes) and the worst cell (generator x source). Empty when no
    source has AUCs."""
    cells = {(g, s): a for s, r in per_source.items() for g, a in r.get("auc", {}).items()}
    if not cells:
        return {}
    gens = list(dict.fromkeys(g for g, _ in cells))
    per = {g: float(np.mean([a for (h, _), a in cells.items() if h == g])) for g in gens}
    candidates = _worst_case_rows(per_generator)
    eligible = [g for g in gens if g in candidates]
    worst = min(eligible, key=per.get)
    (wg, ws) = min((k for k in cells if k[0] in eligible), key=cells.get)
    return {"per_generator": per, "mean": float(np.mean(list(per.values()))),
            "worst": {"generator": worst, "auc": per[worst]},
            "worst_cell": {"generator": wg, "source": ws, "auc": cells[(wg, ws)]},
            "sources": [s for s, r in per_source.items() if "auc" in r]}


def _enough_faces(m: dict) -> bool:
    """Whether a generator row has enough faces to be a worst case, or to be reported as not detected."""
    return m["n_fake"] >= MIN_FAKES_FOR_WORST


def _worst_case_rows(per_generator: dict[str, dict]) -> dict[str, dict]:
    """The generator rows that may be a worst case: those with enough faces (every row when none has)."""
    return {g: m for g, m in per_generator.items() if _enough_faces(m)} or per_generator


def worst_generator(per_generator: dict[str, dict]) -> dict:
    """The generator with the lowest AUC among those with enough faces to be a worst case."""
    eligible = _worst_case_rows(per_generator)
    g = min(eligible, key=lambda k: eligible[k]["auc"])
    return {"generator": g, "auc": eligible[g]["auc"], "ap": eligible[g]["ap"], "acc": eligible[g]["acc"]}


def missed_generators(per: dict[str, dict], by_source: dict[str, dict] | None = None) -> dict[str, str]:
    """{generator: its undetected rows in words} for every generator with a row (any size, at least
    MIN_FAKES_FOR_WORST faces) below NEAR_CHANCE_AUC. Why say it apart from the worst-AUC column: a mean over
    generators hides that one kind of generator passes as photographs, which is what a user needs to know first.
    `by_source`: the per-real-source AUCs, to name the source whose faces each row passes for best."""
    rows: dict[str, list[str]] = {}
    for g, m in per.items():
        if not _enough_faces(m) or m["auc"] >= NEAR_CHANCE_AUC:
            continue
        text = f"{g} AUC {m['auc']:.1f}"
        if "tpr" in m:
            text += f", {m['tpr']:.1f}% flagged"
        if by_source and by_source.get(g):
            src, auc = min(by_source[g].items(), key=lambda kv: kv[1])
            text += f", {auc:.1f} against {src} faces"
        rows.setdefault(g.split("@")[0], []).append(text)
    return {g: "; ".join(v) for g, v in rows.items()}


def tone_matched(run, real: dict[str, FaceSet], real_scores: np.ndarray, fakes: dict[str, FaceSet],
                 fake_scores: dict[str, np.ndarray], threshold: float) -> dict:
    """Tone-matched AUC per generator and their mean (train.metrics.tone_matched_auc; tone measured on the crop the
    network sees), and the held-out false alarms (%) in the lowest and highest tenth of face contrast."""
    def tone(fs: FaceSet) -> np.ndarray:
        return tone_stats(finish(np.asarray(c), run.crop) for c in fs.crops)

    rt = np.concatenate([tone(fs) for fs in real.values()])
    per = {g: tone_matched_auc(real_scores, rt, s, tone(fakes[g])) for g, s in fake_scores.items() if len(s)}
    lo, hi = np.quantile(rt[:, 1], [0.1, 0.9])
    flagged = real_scores < threshold
    return {"per_generator": per, "mean": float(np.mean(list(per.values()))) if per else float("nan"),
            "far_low_contrast": 100 * float(flagged[rt[:, 1] <= lo].mean()),
            "far_high_contrast": 100 * float(flagged[rt[:, 1] >= hi].mean())}


def evaluate(run, sets, feats: Featurize, anomaly: Density, degrades=("none",),
             loso: tuple[DensityData, GMMConfig] | None = None, network_trained: bool = True) -> dict:
    """Per degradation: per-generator metrics at the anomaly model's threshold, mean, worst, held-out false alarms
    (pooled and per source), AUC per generator x real source; with `loso`, leave-one-source-out false alarms
    (`network_trained`: whether the features come from a network trained on the pretext split; loso_test_faces),
    and without degradation the tone-matched AUCs (tone_matched)."""
    thr = anomaly.threshold()
    out = {}
    fake_feats = {}
    held = sets.split("heldout", evaluation=True)
    for deg in degrades:
        real = {k: anomaly.score(v) for k, v in feats(held, deg).items()}
        fake_feats[deg] = feats(sets.fake, deg)
        fake = {g: anomaly.score(v) for g, v in fake_feats[deg].items()}
        all_real = np.concatenate(list(real.values()))
        per = {g: detection_metrics(all_real, s, thr) for g, s in fake.items()}
        out[deg] = {"per_generator": per, "mean": mean_metrics(per), "worst": worst_generator(per) if per else {},
                    "auc_by_real_source": {g: {k: detection_metrics(v, s, thr)["auc"] for k, v in real.items()}
                                           for g, s in fake.items()},
                    "heldout_far": {k: 100 * float(np.mean(v < thr)) for k, v in real.items()},
                    "heldout_far_all": 100 * float(np.mean(all_real < thr)), "n_heldout": int(len(all_real))}
        if deg == "none" and len(all_real):
            out[deg]["tone_matched"] = tone_matched(run, held, all_real, sets.fake, fake, thr)
    if loso is not None:
        per_source = leave_one_source_out(run, sets, feats, *loso, network_trained=network_trained,
                                          fakes=fake_feats["none"])
        out["none"]["loso_far"] = {k: {"far": v["far"], "n": v["n"]} for k, v in per_source.items()}
        if per_source:
            worst = max(per_source, key=lambda k: per_source[k]["far"])
            out["none"]["loso_far_worst"] = {"source": worst, **out["none"]["loso_far"][worst]}
        unseen = unseen_source_auc(per_source, out["none"]["per_generator"])
        if unseen:
            out["none"]["loso_auc_by_source"] = {k: v["auc"] for k, v in per_source.items() if "auc" in v}
            out["none"]["loso_auc"] = unseen
    return out


def summary(res: dict, native_only: bool = False) -> str:
    """Three plain-text lines for a terminal: the headline numbers of an `evaluate(...)["none"]` entry, AUC per
    generator (`native_only`: without the 0.5x rows), and leave-one-source-out false alarms per source."""
    w, lw = res.get("worst") or {}, res.get("loso_far_worst")
    # the worst held-out source next to the pooled rate: a pooled 3% once hid 12% of one source's faces
    # (docs/experiments/2026-12-02-resynthesis)
    by_source = res.get("heldout_far") or {}
    hw = max(by_source, key=by_source.get) if by_source else None
    head = (f"mean AUC {res['mean'].get('auc', float('nan')):.1f} worst {w.get('auc', float('nan')):.1f} "
            f"({w.get('generator', '-')}) held-out FAR {res['heldout_far_all']:.1f}"
            + (f" (worst {hw} {by_source[hw]:.1f})" if hw else "")
            + (f" LOSO worst {lw['far']:.1f} ({lw['source']})" if lw else ""))
    aucs = " ".join(f"{g}={m['auc']:.1f}" for g, m in res["per_generator"].items() if not (native_only and "@" in g))
    loso = " ".join(f"{k}={m['far']:.1f}" for k, m in res.get("loso_far", {}).items())
    ua = res.get("loso_auc")
    unseen = (f"AUC vs left-out sources: mean {ua['mean']:.1f}, worst cell {ua['worst_cell']['auc']:.1f} "
              f"({ua['worst_cell']['generator']} vs {ua['worst_cell']['source']}); "
              + " ".join(f"{g}={a:.1f}" for g, a in ua["per_generator"].items() if not (native_only and "@" in g))
              if ua else "")
    return f"{head}\n   {aucs}" + (f"\n   LOSO {loso}" if loso else "") + (f"\n   {unseen}" if unseen else "")


def headline_table(rows: dict[str, dict]) -> list[str]:
    """Markdown lines: one column per model (an `evaluate(...)["none"]` entry each), a row per generator (AUC), then
    the mean and worst AUC, pooled held-out false alarms and the worst leave-one-source-out false alarms."""
    labels = list(rows)
    gens = list(dict.fromkeys(g for r in rows.values() for g in r["per_generator"]))
    first = next(iter(rows.values()))["per_generator"] if rows else {}
    def cell(r: dict, g: str) -> str:
        return f"{r['per_generator'][g]['auc']:.1f}" if g in r["per_generator"] else "-"

    L = ["| AUC (fake = positive) | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    L += [f"| {g} (n={first[g]['n_fake'] if g in first else '?'}) | " + " | ".join(cell(r, g) for r in rows.values())
          + " |" for g in gens]
    L.append("| **mean AUC** | " + " | ".join(f"**{r['mean']['auc']:.1f}**" for r in rows.values()) + " |")
    L.append("| **worst AUC** | " + " | ".join(
        f"**{r['worst']['auc']:.1f}** ({r['worst']['generator']})" for r in rows.values()) + " |")
    if any("loso_auc" in r for r in rows.values()):
        # the generators against real faces of a source the density never saw (unseen_source_auc)
        L.append("| **mean AUC against left-out sources** | " + " | ".join(
            f"**{r['loso_auc']['mean']:.1f}**" if "loso_auc" in r else "-" for r in rows.values()) + " |")
        L.append("| worst AUC against a left-out source | " + " | ".join(
            "{auc:.1f} ({generator} vs {source})".format(**r["loso_auc"]["worst_cell"]) if "loso_auc" in r else "-"
            for r in rows.values()) + " |")
    if any("tone_matched" in r for r in rows.values()):
        # what is left when each generated face meets real faces of its own brightness and face contrast (tone_matched)
        L.append("| mean AUC against real faces matched on brightness and face contrast | " + " | ".join(
            f"{r['tone_matched']['mean']:.1f}" if "tone_matched" in r else "-" for r in rows.values()) + " |")
    L.append("| mean AP | " + " | ".join(f"{r['mean']['ap']:.1f}" for r in rows.values()) + " |")
    L.append("| mean Acc at the threshold | " + " | ".join(f"{r['mean']['acc']:.1f}" for r in rows.values()) + " |")
    # AUC ranks the whole distributions; what a user meets is the share of generated faces the threshold catches
    L.append("| mean share of generated faces flagged at the threshold (%) | " + " | ".join(
        f"{r['mean']['tpr']:.1f}" for r in rows.values()) + " |")
    L.append("| held-out false alarms (%) | " + " | ".join(f"{r['heldout_far_all']:.1f}" for r in rows.values()) + " |")
    if any("tone_matched" in r for r in rows.values()):
        L.append("| held-out false alarms, least / most contrasty tenth of faces (%) | " + " | ".join(
            "{far_low_contrast:.1f} / {far_high_contrast:.1f}".format(**r["tone_matched"]) if "tone_matched" in r
            else "-" for r in rows.values()) + " |")
    L.append("| **worst leave-one-source-out false alarms (%)** | " + " | ".join(
        f"**{r['loso_far_worst']['far']:.1f}** ({r['loso_far_worst']['source']})" if "loso_far_worst" in r else "-"
        for r in rows.values()) + " |")
    return L


def loso_table(rows: dict[str, dict]) -> list[str]:
    """Markdown lines: leave-one-source-out false alarms (%) per real source, one column per model."""
    rows = {k: r for k, r in rows.items() if "loso_far" in r}
    sources = list(dict.fromkeys(s for r in rows.values() for s in r["loso_far"]))
    L = ["| left-out source (faces) | " + " | ".join(rows) + " |", "|---" * (len(rows) + 1) + "|"]
    for s in sources:
        n = next(r["loso_far"][s]["n"] for r in rows.values() if s in r["loso_far"])
        L.append(f"| {s} ({n}) | " + " | ".join(f"{r['loso_far'][s]['far']:.1f}" if s in r["loso_far"] else "-"
                                                for r in rows.values()) + " |")
    return L


def unseen_source_table(res: dict) -> list[str]:
    """Markdown lines (none without leave-one-source-out AUCs): each generator's AUC against each left-out source's
    faces, both scored by the density fitted and calibrated without that source, and the mean over sources."""
    by, ua = res.get("loso_auc_by_source"), res.get("loso_auc")
    if not by or not ua:
        return []
    L = ["AUC of each generator against each left-out source (the density fitted and calibrated without that "
         "source scores both; below 50: that unseen source's faces look *less* photographic than the generator's):",
         "", "| generator | " + " | ".join(by) + " | **mean** |", "|---" * (len(by) + 2) + "|"]
    L += [f"| {g} | " + " | ".join(f"{by[s][g]:.1f}" for s in by) + f" | **{a:.1f}** |"
          for g, a in ua["per_generator"].items()]
    return L + [""]
