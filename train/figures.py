"""2-D maps (t-SNE, UMAP) of photographic vs AI-generated embeddings, written as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def project(z: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    if method == "tsne":
        from sklearn.manifold import TSNE

        return TSNE(n_components=2, init="pca", perplexity=min(30, max(5, len(z) // 10)), random_state=seed).fit_transform(z)
    if method == "umap":
        import umap

        return umap.UMAP(n_components=2, random_state=seed).fit_transform(z)
    raise ValueError(f"unknown projection {method!r}")


def embedding_map(groups: dict[str, np.ndarray], method: str, path: Path, title: str, seed: int = 0) -> Path:
    """groups: label -> embeddings; the first group is drawn as the photographic reference."""
    labels = list(groups)
    z = np.concatenate([groups[k] for k in labels])
    xy = project(z, method, seed)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=110)
    colours = ["tab:blue", "tab:red", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive"]
    start = 0
    for k, label in enumerate(labels):
        n = len(groups[label])
        ax.scatter(xy[start : start + n, 0], xy[start : start + n, 1], s=5, alpha=0.6, label=f"{label} ({n})",
                   c=colours[k % len(colours)])
        start += n
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(markerscale=3, fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
