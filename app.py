"""Gradio app: a thin UI over `detector/` (all model logic lives there).

    python app.py [--model DIR] [--port 7860] [--host 127.0.0.1]

Tabs: Detect (boxes, verdicts, score plot, explanation maps, live false-alarm control), Manipulations (the four
pretext manipulations of a face and their scores), Embedding (UMAP / t-SNE map), Batch (table + CSV), About.
Named API endpoints (gradio_client): /score (JSON per face), /detect, /manipulations, /embedding, /batch.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from collections import Counter  # noqa: E402
from concurrent.futures import Future, ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from skimage import data as skdata  # noqa: E402

from detector import MANIPULATIONS, Detector, DetectorError, ManipulationConfig, ModelNotFoundError, manipulate  # noqa: E402
from detector.artifact import default_model_dir, load_reference  # noqa: E402
from detector.cli import score_files, write_csv  # noqa: E402
from detector.embedmap import EmbeddingMap  # noqa: E402
from detector.explain import CAVEAT, explanation_map, overlay  # noqa: E402
from detector.pipeline import VERDICT_FAKE, VERDICT_REAL, Analysis, FaceScore  # noqa: E402

GREEN, RED = (46, 160, 67), (218, 54, 51)
EXAMPLES_DIR = Path(tempfile.gettempdir()) / "aigface-examples"
# Every event that runs the model shares one worker: dlib's detector is not documented as thread-safe, and on a
# small CPU two concurrent forwards are no faster than two queued ones. Cheap events (the slider) bypass it.
MODEL_QUEUE = {"concurrency_id": "model", "concurrency_limit": 1}


class Service:
    """Loaded once per process: the detector, its reference sample, and 2-D maps fitted in the background."""

    def __init__(self, model_dir: str | Path | None) -> None:
        self.model_dir = Path(model_dir) if model_dir else default_model_dir()
        self.error: str | None = None
        self.det: Detector | None = None
        try:
            self.det = Detector.load(self.model_dir)
        except ModelNotFoundError as e:
            self.error = str(e)
        self.reference = load_reference(self.model_dir) if self.det else {}
        summary = self.model_dir / "eval_summary.json"
        self.summary = json.loads(summary.read_text()) if summary.is_file() else None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="maps")
        self._maps: dict[str, Future] = {}
        if self.reference.get("real") is not None:
            self.map_future("umap")  # warm up in the background; the UI answers meanwhile

    def map_future(self, method: str) -> Future:
        if method not in self._maps:
            self._maps[method] = self._pool.submit(EmbeddingMap.from_reference, self.reference, method)
        return self._maps[method]


def pass_file_through(component: gr.Image) -> gr.Image:
    """Hand the handlers the uploaded file itself instead of Gradio's decoding of it: detector's loader reads what
    a generic decode gets wrong (16-bit greyscale, float TIFF, EXIF orientation, CMYK) and explains in one line
    what it cannot read (not an image, truncated, too large), exactly as the CLI does."""
    component.preprocess = lambda payload: str(payload.path) if payload is not None and payload.path else None
    return component


def example_images() -> list[str]:
    """Examples made from images that ship inside scikit-image (never from the training data)."""
    EXAMPLES_DIR.mkdir(exist_ok=True)
    astro = skdata.astronaut()
    paths = {"astronaut.png": astro, "astronaut_mirrored.jpg": astro[:, ::-1], "coffee_no_face.png": skdata.coffee()}
    for name, arr in paths.items():
        if not (EXAMPLES_DIR / name).exists():
            Image.fromarray(np.ascontiguousarray(arr)).save(EXAMPLES_DIR / name, quality=92)
    return [str(EXAMPLES_DIR / n) for n in paths]


# ---------- drawing (presentation only) ----------

def draw_boxes(rgb: np.ndarray, boxes: list, fakes: list[bool]) -> np.ndarray:
    """Boxes and face numbers sized to the image, so the numbers stay readable once the page scales it down."""
    img = Image.fromarray(rgb)
    d = ImageDraw.Draw(img)
    w = max(2, round(max(img.size) / 300))
    font = ImageFont.load_default(size=max(14, round(max(img.size) / 30)))
    for i, (box, fake) in enumerate(zip(boxes, fakes)):
        c = RED if fake else GREEN
        d.rectangle(box, outline=c, width=w)
        x0, y0, x1, y1 = d.textbbox((0, 0), str(i + 1), font=font)
        top = max(0, box[1] - (y1 + 2 * w))  # the label sits above the box, or inside it at the image's top edge
        d.rectangle([box[0], top, box[0] + x1 + 2 * w, top + y1 + 2 * w], fill=c)
        d.text((box[0] + w, top + w - y0 // 2), str(i + 1), fill=(255, 255, 255), font=font)
    return np.asarray(img)


def plot_range(reference: np.ndarray, threshold: float, scores: list[float]) -> tuple[float, float]:
    """x-range of the score plot: the bulk of the reference scores (1st percentile to the maximum), widened for the
    threshold and the faces by at most one bulk width on either side (a few extreme scores would otherwise squeeze
    everything into a corner); faces beyond it are drawn at the edge with their value."""
    bulk_lo, bulk_hi = np.quantile(reference, [0.01, 1.0]) if len(reference) else (threshold, threshold)
    span = max(bulk_hi - bulk_lo, 1.0)
    lo = max(min(bulk_lo, threshold, *scores), bulk_lo - span)
    hi = min(max(bulk_hi, threshold, *scores), bulk_hi + span)
    pad = 0.04 * (hi - lo)
    return lo - pad, hi + pad


def score_plot(reference: np.ndarray, threshold: float, scores: list[float], fakes: list[bool]):
    lo, hi = plot_range(reference, threshold, scores)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    ax.hist(np.clip(reference, lo, hi), bins=40, range=(lo, hi), color="#8aa9c9", alpha=0.9,
            label="photographic reference faces")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.1f}")
    top = ax.get_ylim()[1]
    # faces sorted by score; neighbours are staggered over four heights so their numbers do not overlap
    for rank, i in enumerate(np.argsort(scores)):
        s, f = scores[i], fakes[i]
        x = float(np.clip(s, lo, hi))
        y = top * (1.02 + 0.1 * (rank % 4))
        ax.plot([x], [y], marker="v", markersize=10, color=np.array(RED if f else GREEN) / 255, clip_on=False)
        label = str(i + 1) if x == s else f"{i + 1} ({s:.0f})"
        ax.annotate(label, (x, y), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=10,
                    fontweight="bold", annotation_clip=False)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("log-likelihood under the photographic-face model")
    ax.set_ylabel("faces")
    ax.set_ylim(top=top * 1.5)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def change_view(original: np.ndarray, manipulated: np.ndarray, mask: np.ndarray, name: str) -> tuple[np.ndarray, str]:
    """What a manipulation changes: the blend mask of a flip; for the warp, which moves every pixel and so has no
    mask, the per-pixel change |manipulated - original|, scaled to its 99th percentile."""
    if mask.min() == mask.max():
        diff = np.abs(manipulated.astype(np.int16) - original.astype(np.int16)).max(axis=2)
        v = np.clip(diff * (255.0 / max(1.0, float(np.quantile(diff, 0.99)))), 0, 255).astype(np.uint8)
        return np.repeat(v[..., None], 3, 2), "warp: change (no mask)"
    return np.repeat((mask * 255).astype(np.uint8)[..., None], 3, 2), f"{name} mask"


def draw_landmarks(crop: np.ndarray, lm: np.ndarray) -> np.ndarray:
    img = Image.fromarray(crop)
    d = ImageDraw.Draw(img)
    for x, y in lm:
        d.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=(255, 220, 0))
    return np.asarray(img)


# ---------- handlers ----------

def _require(svc: Service) -> Detector:
    if svc.det is None:
        raise gr.Error(svc.error or "no model loaded")
    return svc.det


def by_name(message: str, path: str | Path) -> str:
    """`message` with Gradio's temporary path of an upload replaced by the file's own name."""
    return message.replace(str(path), Path(path).name)


def _analyse(svc: Service, path: str | None) -> tuple[Analysis | None, str]:
    det = _require(svc)
    if not path:
        return None, "Upload, paste or capture an image first."
    try:
        a = det.analyse(path)
    except DetectorError as e:
        return None, f"**Cannot read this image:** {by_name(str(e), path)}"
    if not a.faces:
        return a, "**No face found.** The detector needs a face of at least ~80 pixels, roughly frontal."
    return a, ""


TABLE_HEADERS = ["face", "verdict", "certainty", "percentile", "log-likelihood", "threshold", "note"]


def face_rows(res: list[FaceScore]) -> list[list]:
    return [[r.index, r.verdict, r.certainty, round(r.percentile, 1), round(r.log_likelihood, 2),
             round(r.threshold, 2), r.caution or ""] for r in res]


def render(svc: Service, a: Analysis | None, far: float, heat: list | None = None):
    """Every Detect output for one analysis; with no analysis (or no face) every output is cleared."""
    det = _require(svc)
    if a is None or not a.faces:
        return None, [], None, [], ""
    res = det.verdicts(a, far)
    img = draw_boxes(a.rgb, [r.box for r in res], [r.is_fake for r in res])
    fig = score_plot(det.anomaly.reference_scores, res[0].threshold, [r.log_likelihood for r in res],
                     [r.is_fake for r in res])
    plt.close(fig)
    bands = ", ".join(f"{n} {c}" for c, n in Counter(r.certainty for r in res).items())
    cautions = sum(r.caution is not None for r in res)
    summary = (f"**{len(res)} face(s): {bands}.** Threshold at {100 * far:.1f}% false alarms on photographic faces; "
               "certainty bands from the face's percentile among photographic reference faces."
               + (f" {cautions} face(s) carry a note: their verdict is less reliable." if cautions else ""))
    gallery = [item for i, (c, h) in enumerate(zip(a.crops, heat or []))
               for item in ((c.image, f"face {i + 1}"), (h, f"face {i + 1}: map"))]
    return img, face_rows(res), fig, gallery, summary


def build(svc: Service) -> gr.Blocks:
    examples = example_images()

    def detect(path, far):
        a, msg = _analyse(svc, path)
        heat = [overlay(c.image, explanation_map(svc.det, c.image)) for c in a.crops] if a and a.faces else []
        img, rows, fig, gallery, summary = render(svc, a, far, heat)
        return img, rows, fig, gallery, msg or summary, {"analysis": a, "heat": heat}

    def rethreshold(state, far):
        state = state or {}
        a = state.get("analysis")
        if a is None or not a.faces:
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        return render(svc, a, far, state.get("heat"))

    def score_json(path, far):
        a, msg = _analyse(svc, path)
        if a is None:
            return {"error": msg.replace("**", "")}
        return {"faces": [r.to_dict() for r in svc.det.verdicts(a, far)],
                **({"message": msg.replace("**", "")} if msg else {})}

    def manipulations(path, strength, warp, seed):
        det = _require(svc)
        a, msg = _analyse(svc, path or examples[0])
        if a is None or not a.faces:
            return None, [], [], [], msg
        crop = max(a.crops, key=lambda c: c.square[2])  # the largest face
        cfg = ManipulationConfig(strength=strength, warp_scale=(warp, warp))
        outs = [manipulate(crop.image, crop.landmarks, k, int(seed), cfg) for k in MANIPULATIONS]
        ll = det.anomaly.score(det.features([crop.image, *[o for o, _ in outs]]))
        thr = det.anomaly.threshold()
        names = ["original", *MANIPULATIONS]
        rows = [[n, round(float(s), 2), VERDICT_FAKE if s < thr else VERDICT_REAL] for n, s in zip(names, ll)]
        masks = [change_view(crop.image, o, m, k) for k, (o, m) in zip(MANIPULATIONS, outs)]
        images = [(crop.image, "original"), *[(o, k) for k, (o, _) in zip(MANIPULATIONS, outs)]]
        return draw_landmarks(crop.image, crop.landmarks), masks, images, rows, msg

    def embedding(state, method):
        _require(svc)
        if svc.reference.get("real") is None:
            return None, "This model ships no reference embeddings."
        m = svc.map_future(method).result()
        a = (state or {}).get("analysis")
        fig, ax = plt.subplots(figsize=(6.4, 5.4), dpi=100)
        for label in dict.fromkeys(m.labels):
            sel = m.labels == label
            ax.scatter(m.xy[sel, 0], m.xy[sel, 1], s=6, alpha=0.55, label=f"{label} ({sel.sum()})")
        note = "Detect a face first to place it on the map."
        if a is not None and a.faces:
            xy = m.place(a.embeddings)
            ax.scatter(xy[:, 0], xy[:, 1], marker="*", s=160, c="black", edgecolors="white", linewidths=0.6,
                       label="your face(s)")
            for i, (x, y) in enumerate(xy):  # numbers fanned out around their star so neighbours stay legible
                dx, dy = [(8, 8), (-14, 8), (8, -14), (-14, -14)][i % 4]
                ax.annotate(str(i + 1), (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=10,
                            fontweight="bold", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
            note = ("Placed with UMAP's transform." if method == "umap" else
                    "t-SNE cannot embed new points: each face sits at the mean position of its 5 nearest reference "
                    "faces in the 768-d embedding space.")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{method.upper()} of the model's reference embeddings")
        legend = ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=3, frameon=False)
        for handle, text in zip(legend.legend_handles, legend.get_texts()):  # legend markers of one modest size
            handle.set_sizes([90 if text.get_text() == "your face(s)" else 30])
        fig.tight_layout()
        plt.close(fig)
        return fig, note

    def batch(files, far):
        det = _require(svc)
        if not files:
            return [], None, "Add some images first."
        paths = [Path(f) for f in files]
        rows, unread = score_files(det, paths, far, progress=False)
        # Gradio keeps each upload under its own name in a temporary folder: show the name, never the server path
        rows = [{**r, "file": Path(r["file"]).name,
                 **({"error": by_name(r["error"], r["file"])} if "error" in r else {})} for r in rows]
        table = [[r["file"], r.get("face", 0), r.get("error") or r.get("verdict", ""), r.get("certainty", ""),
                  r.get("percentile", ""), r.get("log_likelihood", ""), r.get("threshold", ""), r.get("caution") or ""]
                 for r in rows]
        out = Path(tempfile.mkdtemp()) / "scores.csv"
        with open(out, "w", newline="") as fp:
            write_csv(rows, fp)
        n_faces = sum(r.get("face", 0) > 0 for r in rows)
        return table, str(out), (f"{len(paths)} file(s), {unread} unreadable, {n_faces} face(s); threshold at "
                                 f"{100 * far:.1f}% false alarms on photographic faces.")

    with gr.Blocks(title="AI-generated face detector") as demo:
        gr.Markdown("# AI-generated face detector\nFlags faces whose features are unlikely under a model of "
                    "*photographic* faces. Nothing you upload is stored.")
        if svc.error:
            gr.Markdown(f"**No model loaded:** {svc.error}")
        state = gr.State({})
        with gr.Tab("Detect"):
            with gr.Row():
                with gr.Column():
                    image_in = pass_file_through(gr.Image(type="filepath", label="Image",
                                                          sources=["upload", "clipboard", "webcam"]))
                    far = gr.Slider(0.005, 0.5, value=0.05, step=0.005, label="False-alarm rate on photographic faces")
                    go = gr.Button("Detect", variant="primary")
                    gr.Examples(examples[:3], inputs=image_in)
                with gr.Column():
                    message = gr.Markdown(elem_id="detect-message")
                    image_out = gr.Image(label="Faces (green: camera photo, red: flagged)", interactive=False,
                                         elem_id="detect-faces")
            table = gr.Dataframe(headers=TABLE_HEADERS, label="Per face", interactive=False, wrap=True,
                                 elem_id="detect-table")
            with gr.Row():
                plot = gr.Plot(label="Score among photographic reference faces", elem_id="detect-plot")
                explain = gr.Gallery(label="Explanation maps (each face crop, then its map)", columns=2, height=330,
                                     preview=False, allow_preview=False, object_fit="contain", elem_id="detect-explain")
            gr.Markdown(f"*{CAVEAT}*")
            outs = [image_out, table, plot, explain, message]
            go.click(detect, [image_in, far], [*outs, state], api_name="detect", **MODEL_QUEUE)
            # a new upload, an example click or clearing the image replaces every output (nothing stale stays)
            image_in.change(detect, [image_in, far], [*outs, state], api_name=False, **MODEL_QUEUE)
            far.release(rethreshold, [state, far], outs, api_name=False)
            json_out = gr.JSON(visible=False)
            gr.Button(visible=False).click(score_json, [image_in, far], json_out, api_name="score", **MODEL_QUEUE)
        with gr.Tab("Manipulations"):
            gr.Markdown("The four manipulations the model learns to spot (pretext task 5), built from 68 landmarks. "
                        "Empty input uses the example astronaut.")
            with gr.Row():
                m_in = pass_file_through(gr.Image(type="filepath", label="Face",
                                                  sources=["upload", "clipboard", "webcam"]))
                with gr.Column():
                    strength = gr.Slider(0, 1, value=1, step=0.05, label="Blend strength (flips)")
                    warp = gr.Slider(0.0, 0.1, value=0.03, step=0.005, label="Warp scale (piecewise affine)")
                    seed = gr.Number(value=0, precision=0, label="Seed")
                    m_go = gr.Button("Manipulate", variant="primary")
            m_msg = gr.Markdown()
            with gr.Row():
                lm_img = gr.Image(label="68 landmarks", interactive=False, height=260)
                m_masks = gr.Gallery(label="Where each manipulation changes the face", columns=4, height=260,
                                     preview=False, allow_preview=False, object_fit="contain")
            m_imgs = gr.Gallery(label="Original and manipulated", columns=5, height=260, preview=False,
                                allow_preview=False, object_fit="contain")
            m_table = gr.Dataframe(headers=["version", "log-likelihood", "verdict"], interactive=False)
            m_go.click(manipulations, [m_in, strength, warp, seed], [lm_img, m_masks, m_imgs, m_table, m_msg],
                       api_name="manipulations", **MODEL_QUEUE)
        with gr.Tab("Embedding"):
            method = gr.Radio(["umap", "tsne"], value="umap", label="Projection")
            e_go = gr.Button("Show map (with the faces from the Detect tab)")
            e_plot = gr.Plot()
            e_msg = gr.Markdown()
            e_go.click(embedding, [state, method], [e_plot, e_msg], api_name="embedding", **MODEL_QUEUE)
        with gr.Tab("Batch"):
            files = gr.File(file_count="multiple", type="filepath", label="Images")
            b_far = gr.Slider(0.005, 0.5, value=0.05, step=0.005, label="False-alarm rate on photographic faces")
            b_go = gr.Button("Score all", variant="primary")
            b_msg = gr.Markdown()
            b_table = gr.Dataframe(headers=["file", "face", "verdict or reason", "certainty", "percentile",
                                            "log-likelihood", "threshold", "note"], interactive=False, wrap=True,
                                   elem_id="batch-table")
            b_csv = gr.File(label="CSV")
            b_go.click(batch, [files, b_far], [b_table, b_csv, b_msg], api_name="batch", **MODEL_QUEUE)
        with gr.Tab("About"):
            gr.Markdown(about_text(svc))
    return demo


def about_text(svc: Service) -> str:
    """The method and this model's own numbers, every setting read from the loaded artifact."""
    cfg = svc.det.config if svc.det else {}  # the artifact's config.json, as Detector.load read it
    tr, crop, model = cfg.get("training", {}), cfg.get("crop", {}), cfg.get("model", {})
    p, g = tr.get("pretext", {}), tr.get("gmm", {})
    k = svc.det.anomaly.config.n_components if svc.det else g.get("n_components", "?")
    dim = model.get("embed_dim", "?")
    pca = f", on its first {g['pca_dim']} whitened principal components" if g.get("pca_dim") else ""
    trained = (f"**This model skips that training**: its {model.get('backbone', 'ResNet')} is at seeded random "
               "initialisation, because training it from scratch on a CPU pushed the validation AUCs below chance "
               "(see the model card)." if p.get("epochs") == 0 else
               f"This model: {model.get('backbone', 'ResNet')}, {p['epochs']} epochs from random init." if p else
               "This model's artifact does not record how it was trained.")
    fitted = sum(tr.get("gmm_fit_faces", {}).values())
    far = 100 * (svc.det.anomaly.far if svc.det else g.get("far", 0.05))
    cap = f", rendered at most {crop['face_px']} px" if crop.get("face_px") else ""
    lines = [
        "## Method (Zou et al., ICASSP 2025)",
        "1. A ResNet learns features of **photographic faces only**, with no AI-generated image in training.",
        "2. Pretext tasks: rank pairs of photos by 4 EXIF tags (aperture, exposure, focal length, ISO) and tell "
        f"artificially manipulated faces (eye/mouth flips, warps) from originals. {trained}",
        f"3. A Gaussian mixture (K={k}{pca}) models the {dim}-d features of {fitted or 'the'} photographic faces."
        + (f" A second one (K={k}, on {g['spectrum_dim']} whitened principal components) models the radially "
           "averaged log power spectrum of the same crops, where up-sampling leaves its traces; a face's score is "
           "the sum of the two log-likelihoods." if g.get("spectrum_dim") else "")
        + (f" Another ({g['ripple_dim']} components) models the ripple of the crops' radially averaged log power "
           "spectrum (the profile minus its own smoothed curve), where up-sampling leaves narrow peaks and "
           "sharpening or blur change little; its log-likelihood is added." if g.get("ripple_dim") else "")
        + (f" Another ({g['axis_dim']} components) models the spectrum's power on the horizontal and vertical "
           "frequency axes, where up-sampling traces concentrate; its log-likelihood is added too."
           if g.get("axis_dim") else ""),
        f"4. A face's score is its log-likelihood; below the {far:g}th percentile of "
        + ("photographic faces from sources the mixture never saw (each reference face scored by a mixture fitted "
           "without its photo source) " if tr.get("calibrated_by") == "source" else "photographic faces ")
        + "it is flagged. Certainty: *likely AI-generated* far below the threshold, *uncertain* "
        "near it, *likely photographic* well above it.",
        f"5. Every crop goes through the same processing ({crop.get('scale', '?')}x face box{cap}, "
        f"{crop.get('size', '?')} px" + (f", one JPEG q{crop['jpeg_quality']} re-encode" if crop.get("jpeg_quality")
                                         else "") + ") for real and fake.",
    ]
    if svc.summary:
        s = svc.summary
        lines += ["", "## This model's measured results", "",
                  f"Device: {s.get('measured_on', 'not recorded')}; {s.get('evaluation_prep', '')}.", "",
                  "| generator | faces | Acc | AP | AUC |", "|---|---|---|---|---|"]
        lines += [f"| {g} | {m.get('n_fake', '')} | {m['acc']:.1f} | {m['ap']:.1f} | {m['auc']:.1f} |"
                  for g, m in s["per_generator"].items()]
        lines += [f"| **mean** | | {s['mean']['acc']:.1f} | {s['mean']['ap']:.1f} | {s['mean']['auc']:.1f} |", ""]
        if s.get("worst", {}).get("generator"):
            lines.append(f"Worst generator: {s['worst']['generator']} (AUC {s['worst']['auc']:.1f}). ")
        for g, rows in (s.get("not_detected") or {}).items():
            lines += ["", f"**Not detected: {g}** ({rows}): its faces mostly pass as photographs, so a face that "
                      "passes is not proof that it is real.", ""]
        lines.append(f"False-alarm rate on {s['n_heldout']} held-out photographic faces: {s['heldout_far']:.1f}%.")
        if s.get("loso_far_worst"):
            lines.append(f" With each real source left out of the fit, up to {s['loso_far_worst']['far']:.1f}% of its "
                         f"faces were flagged ({s['loso_far_worst']['source']}).")
        if s.get("loso_auc"):
            w = s["loso_auc"]["worst_cell"]
            lines.append(f" Against faces of a source left out of the fit (what your photos are), the mean AUC is "
                         f"{s['loso_auc']['mean']:.1f} (worst: {w['generator']} against {w['source']} faces, "
                         f"{w['auc']:.1f}).")
        if s.get("tone_matched"):
            t = s["tone_matched"]
            lines.append(f" Strong light and shade on a face look generated to this model: of the held-out real faces, "
                         f"the most contrasty tenth was flagged at {t['far_high_contrast']:.1f}%, the least at "
                         f"{t['far_low_contrast']:.1f}%; against real faces of the same brightness and contrast, the "
                         f"mean AUC is {t['mean']:.1f}.")
        lines += ["", "**Never measured**: every generator not in this table (for example Midjourney, Imagen, "
                  "GPT-4o, newer GANs and diffusion models). See assets/MODEL_CARD.md for data, training and limits."]
    lines += ["", "## Limits",
              "- Faces under ~80 px or in strong profile are not found; a face that is found is always scored.",
              "- A flag means *unusual for the photographic faces this model saw*, not proof of generation: heavy "
              "filters, make-up, unusual lighting or cameras can be flagged too, and "
              f"{far:g}% of real faces are by design.",
              f"- Fitted on {fitted or 'a few thousand'} faces on a CPU; the paper trains on ~200k faces with EXIF."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="artifact folder (default: $DETECTOR_MODEL or assets/default)")
    ap.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    args = ap.parse_args()
    demo = build(Service(args.model))
    demo.queue(default_concurrency_limit=1, max_size=64).launch(server_name=args.host, server_port=args.port,
                                                                  max_file_size="50mb", show_error=True)


if __name__ == "__main__":
    main()
