"""
Quickstart: fit on seen classes, retrieve on unseen ones
========================================================

GCRDP is fitted on the pairs of five Wikipedia classes and then asked to
retrieve across modalities among the five others, which it never saw. A text
gallery of the unseen classes is embedded once, without any image, and
searched later by images embedded on their own.

Run by hand: ``python examples/plot_quickstart.py``
(7 s on 2 CPU cores with its imports, measured 2026-12-02).
"""

import matplotlib.pyplot as plt
import numpy as np

from skgcrdp import CrossModalRetriever, embed_modality, make_gcrdp_pipeline
from skgcrdp.datasets import load_wikipedia
from skgcrdp.model_selection import ClassDisjointSplit

data = load_wikipedia()
X, y = data.data, data.target

# %%
# Five classes are seen in training; the other five are new at query time.
seen, unseen = next(ClassDisjointSplit(n_splits=1, random_state=0).split(X, y))
pipe = make_gcrdp_pipeline(n_image_features=data.n_image_features, random_state=0)
pipe.fit(X[seen], y[seen])
print(f"unseen-class mAP (mean of both directions): {pipe.score(X[unseen], y[unseen]):.4f}")

# %%
# A text gallery of the unseen classes, embedded once without any image,
# searched by image queries embedded on their own.
texts = X[unseen, data.n_image_features:]
gallery = embed_modality(pipe, texts, "text")
retriever = CrossModalRetriever(n_neighbors=10).fit_gallery(gallery, y[unseen], modality="text")
images = X[unseen, : data.n_image_features]
_, neighbours = retriever.kneighbors(embed_modality(pipe, images, "image"), query_modality="image")

# %%
# How often the k-th retrieved text belongs to the query image's class, per
# unseen class, against the share of that class in the gallery (chance).
hits = y[unseen][neighbours] == y[unseen][:, None]
fig, ax = plt.subplots(figsize=(6, 3.5))
for label in np.unique(y[unseen]):
    rows = y[unseen] == label
    ax.plot(np.arange(1, 11), hits[rows].mean(axis=0), marker="o",
            label=f"{data.target_names[label]} (chance {rows.mean():.2f})")
ax.set_xlabel("rank of the retrieved text")
ax.set_ylabel("share of the query's class")
ax.set_title("image → text on unseen classes")
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()
