"""A 2-D map of the reference embeddings shipped with a model, onto which new faces are placed.

UMAP (default) learns a transform, so new faces are embedded by `umap.transform`. t-SNE has no transform: a new
face is placed at the mean 2-D position of its 5 nearest reference neighbours in the 768-d embedding space (it
shows which photographic faces it resembles, not where a joint t-SNE run would put it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.neighbors import NearestNeighbors


@dataclass
class EmbeddingMap:
    points: np.ndarray  # (N, D) reference embeddings
    labels: np.ndarray  # (N,) str: "photographic" or the generator's name
    method: str = "umap"
    seed: int = 0
    xy: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        z = self.points.astype(np.float32)
        if self.method == "umap":
            import umap

            self._umap = umap.UMAP(n_components=2, random_state=self.seed).fit(z)
            self.xy = self._umap.embedding_
        elif self.method == "tsne":
            from sklearn.manifold import TSNE

            self.xy = TSNE(n_components=2, init="pca", perplexity=min(30, max(5, len(z) // 10)),
                           random_state=self.seed).fit_transform(z)
            self._nn = NearestNeighbors(n_neighbors=min(5, len(z))).fit(z)
        else:
            raise ValueError(f"method must be 'umap' or 'tsne', got {self.method!r}")

    @classmethod
    def from_reference(cls, reference: dict[str, np.ndarray], method: str = "umap") -> "EmbeddingMap":
        """From an artifact's reference.npz: 'real', optionally 'fake' with 'fake_labels'."""
        real = reference["real"]
        parts, labels = [real], [np.full(len(real), "photographic")]
        if "fake" in reference and len(reference["fake"]):
            parts.append(reference["fake"])
            labels.append(reference.get("fake_labels", np.full(len(reference["fake"]), "AI-generated")).astype(str))
        return cls(np.concatenate(parts).astype(np.float32), np.concatenate(labels), method)

    def place(self, z: np.ndarray) -> np.ndarray:
        """2-D positions of new embeddings."""
        z = np.asarray(z, np.float32)
        if len(z) == 0:
            return np.zeros((0, 2), np.float32)
        if self.method == "umap":
            return self._umap.transform(z)
        idx = self._nn.kneighbors(z, return_distance=False)
        return self.xy[idx].mean(axis=1)
