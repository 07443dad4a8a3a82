"""
Ablation of the method's parts
==============================

GCRDP has two distinguishing parts: Gaussian-mixture prototypes among the
positives of the extractor's contrastive loss (its prototype weight), and the
relative-distance aligner (the pipeline's align step). The benchmark's
ablation rows switch each off. Here, on Open Clip Art with all pairs of the seen classes,
each variant is fitted on the same three class-disjoint episodes and scored
on the unseen classes, with the paired difference to the full method.

Small configuration: three episodes, so differences of a few thousandths are
within the noise; the user guide's benchmark page holds the full ablation
table and what it says.

Run by hand: ``python examples/plot_ablation.py``
(27 s on 2 CPU cores with its imports, measured 2026-12-02).
"""

import matplotlib.pyplot as plt
import numpy as np

from skgcrdp import make_gcrdp_pipeline
from skgcrdp.datasets import load_openclipart
from skgcrdp.metrics import cross_modal_retrieval_score
from skgcrdp.modalities import shared_space
from skgcrdp.model_selection import ClassDisjointSplit

data = load_openclipart()
X, y, n_image = data.data, data.target, data.n_image_features
VARIANTS = {
    "GCRDP": {},
    "w/o prototypes": {"extract__prototype_weight": 0.0},
    "w/o alignment": {"align": "passthrough"},
    "neither": {"extract__prototype_weight": 0.0, "align": "passthrough"},
}

scores = {name: [] for name in VARIANTS}
for episode, (seen, unseen) in enumerate(ClassDisjointSplit(3, random_state=0).split(X, y)):
    for name, params in VARIANTS.items():
        pipe = make_gcrdp_pipeline(n_image, random_state=episode, **params).fit(X[seen], y[seen])
        scores[name].append(cross_modal_retrieval_score(shared_space(pipe, X[unseen]), y[unseen]))

# %%
# Mean unseen-class mAP and the paired difference to GCRDP (± standard error).
full = np.array(scores["GCRDP"])
for name, values in scores.items():
    diff = np.array(values) - full
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    print(f"{name:15s} mAP {np.mean(values):.4f}   difference {diff.mean():+.4f} ± {se:.4f}")

# %%
# What removing each part changes, episode by episode: the episodes differ
# far more from each other than the variants do, so the paired differences,
# not the raw scores, show the parts' effect.
fig, ax = plt.subplots(figsize=(6, 2.8))
names = [n for n in scores if n != "GCRDP"][::-1]
diffs = [np.array(scores[n]) - full for n in names]
ax.barh(names, [d.mean() for d in diffs], color="tab:gray",
        xerr=[d.std(ddof=1) / np.sqrt(len(d)) for d in diffs], capsize=3)
for row, d in enumerate(diffs):
    ax.scatter(d, [row] * len(d), color="black", s=12, zorder=3)
ax.axvline(0, color="tab:blue", linewidth=1)
ax.set_xlabel("unseen mAP minus GCRDP's\n(bars: mean ± s.e.; dots: episodes)")
ax.set_title("Open Clip Art, all pairs per seen class, 3 episodes")
fig.tight_layout()
plt.show()
