"""
Queries of one modality against a stored gallery
================================================

At query time there are no pairs: a collection of images is embedded once,
stored with its retriever on disk, and searched later by texts that arrive
one by one. :func:`~skgcrdp.embed_modality` runs the fitted pipeline on one
modality alone; the result equals the matching half of the paired
embedding, so the stored gallery and tomorrow's queries meet in the same
space. Small configuration: Open Clip Art, half of its classes seen.

Run by hand: ``python examples/plot_stored_gallery.py``
(8 s on 2 CPU cores with its imports, measured 2026-12-02).
"""

import tempfile
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np

from skgcrdp import CrossModalRetriever, embed_modality, make_gcrdp_pipeline
from skgcrdp.datasets import load_openclipart
from skgcrdp.metrics import precision_at_k
from skgcrdp.modalities import shared_space
from skgcrdp.model_selection import ClassDisjointSplit

data = load_openclipart()
X, y, n_image = data.data, data.target, data.n_image_features
seen, unseen = next(ClassDisjointSplit(n_splits=1, random_state=0).split(X, y))
pipe = make_gcrdp_pipeline(n_image, random_state=0).fit(X[seen], y[seen])

# %%
# Embed the unseen classes' images alone and store the gallery with joblib.
images = embed_modality(pipe, X[unseen, :n_image], "image")
gallery = CrossModalRetriever(n_neighbors=20).fit_gallery(images, y[unseen], modality="image")
folder = Path(tempfile.mkdtemp())
joblib.dump(gallery, folder / "gallery.joblib")
joblib.dump(pipe, folder / "pipeline.joblib")

# %%
# Later, in another session: load both and search with caption queries.
pipe, gallery = joblib.load(folder / "pipeline.joblib"), joblib.load(folder / "gallery.joblib")
queries = embed_modality(pipe, X[unseen, n_image:], "text")
_, found = gallery.kneighbors(queries, query_modality="text")
print("first query's caption:", repr(data.captions[unseen[0]]))
print("classes of its 5 nearest drawings:", data.target_names[y[unseen][found[0, :5]]].tolist())

# %%
# The one-modality embedding is the paired one's half, exactly.
paired = shared_space(pipe, X[unseen])
half = paired.shape[1] // 2
print("text half equal to the queries:", np.allclose(paired[:, half:], queries, atol=1e-6))

# %%
# Precision@k of the caption queries against the stored gallery, and of the
# same search the other way round (images querying a caption gallery).
scores = {"text → image": queries @ images.T, "image → text": images @ queries.T}
ks = [1, 5, 10, 20, 50]
fig, ax = plt.subplots(figsize=(5, 3))
for name, S in scores.items():
    ax.plot(ks, [precision_at_k(y[unseen], y[unseen], S, k=k) for k in ks], marker="o", label=name)
# A random ranking's expected precision: the chance that two items share a class.
counts = np.unique(y[unseen], return_counts=True)[1]
chance = np.sum(counts**2) / len(unseen) ** 2
ax.axhline(chance, color="gray", linestyle=":", label="chance")
ax.set_xscale("log")
ax.set_xticks(ks, [str(k) for k in ks])
ax.set_xlabel("k")
ax.set_ylabel("precision@k (unseen classes)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
p10 = precision_at_k(y[unseen], y[unseen], scores["text → image"], k=10)
print(f"precision@10 text → image: {p10:.3f}; pipeline mAP: {pipe.score(X[unseen], y[unseen]):.4f}")
