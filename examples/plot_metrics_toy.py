"""
Retrieval metrics on a toy ranking
==================================

One query, a gallery of eight items, three of them relevant (same class).
Average precision averages the precision at the rank of each relevant item;
mAP is its mean over queries. skgcrdp's metrics equal scikit-learn's on the
same scores: ``label_ranking_average_precision_score`` for mAP@all and
``ndcg_score`` for nDCG@k, ties included.

Run by hand: ``python examples/plot_metrics_toy.py``
(4 s on 2 CPU cores with its imports, measured 2026-12-02).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import label_ranking_average_precision_score, ndcg_score

from skgcrdp.metrics import mean_average_precision, ndcg_at_k, precision_at_k, recall_at_k

y_query = np.array([1])
y_gallery = np.array([1, 0, 1, 0, 0, 1, 0, 0])
scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]])   # ranks 1..8 in this order

# %%
# Relevant items sit at ranks 1, 3 and 6: precisions 1/1, 2/3 and 3/6.
relevant_ranks = np.flatnonzero(y_gallery[np.argsort(-scores[0])] == 1) + 1
precisions = np.arange(1, len(relevant_ranks) + 1) / relevant_ranks
print("relevant at ranks", relevant_ranks.tolist(), "precisions", np.round(precisions, 3).tolist())
print(f"AP by hand: {precisions.mean():.4f}")
print(f"mean_average_precision: {mean_average_precision(y_query, y_gallery, scores):.4f}")
relevance = (y_gallery == y_query[:, None]).astype(int)
print(f"scikit-learn LRAP:      {label_ranking_average_precision_score(relevance, scores):.4f}")

# %%
# The @k metrics, and nDCG@k against scikit-learn's ``ndcg_score``.
for k in (1, 3, 5):
    print(f"k={k}: precision {precision_at_k(y_query, y_gallery, scores, k=k):.3f}  "
          f"recall {recall_at_k(y_query, y_gallery, scores, k=k):.3f}  "
          f"nDCG {ndcg_at_k(y_query, y_gallery, scores, k=k):.4f} "
          f"(scikit-learn {ndcg_score(relevance, scores, k=k):.4f})")

# %%
# Ties: when the irrelevant item at rank 2 ties with the relevant one at rank
# 1, each counts as ranked before the other, as in scikit-learn: the first
# relevant item's precision drops from 1/1 to 1/2.
tied = scores.copy()
tied[0, 1] = tied[0, 0]
print(f"with a tie: mAP {mean_average_precision(y_query, y_gallery, tied):.4f}, "
      f"scikit-learn {label_ranking_average_precision_score(relevance, tied):.4f}")

# %%
fig, ax = plt.subplots(figsize=(6, 2.6))
ranks = np.arange(1, 9)
running = np.cumsum(y_gallery) / ranks
ax.bar(ranks, y_gallery, color=["tab:green" if r else "lightgray" for r in y_gallery],
       label="relevant item")
ax.plot(ranks, running, marker="o", color="black", label="precision@rank")
ax.scatter(relevant_ranks, precisions, s=120, facecolors="none", edgecolors="tab:red",
           label="averaged into AP", zorder=3)
ax.set_xlabel("rank")
ax.set_xticks(ranks)
ax.legend(fontsize=8, loc="upper right")
ax.set_title(f"AP = mean of the circled precisions = {precisions.mean():.3f}")
fig.tight_layout()
plt.show()
