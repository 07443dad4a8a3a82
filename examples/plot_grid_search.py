"""
Grid search for unseen classes
==============================

Ordinary ``StratifiedKFold`` would reward fitting the seen classes; the
class-disjoint splitter validates on classes that the training folds never
saw. No ``scoring=`` is needed: the pipeline's ``score`` is cross-modal mAP.
Small configuration: three values, three inner splits (each holding out two
of the five seen Wikipedia classes), inside the seen classes.

Run by hand: ``python examples/plot_grid_search.py``
(21 s on 2 CPU cores with its imports, measured 2026-12-02).
"""

import matplotlib.pyplot as plt
from sklearn.model_selection import GridSearchCV

from skgcrdp import make_gcrdp_pipeline
from skgcrdp.datasets import load_wikipedia
from skgcrdp.metrics import make_retrieval_scorer
from skgcrdp.model_selection import ClassDisjointSplit

X, y = load_wikipedia(return_X_y=True)
seen, unseen = next(ClassDisjointSplit(n_splits=1, random_state=0).split(X, y))

# %%
# The search runs inside the seen classes only.

# Each split draws its two held-out classes at random; this seed's three splits
# hold out three different pairs that together cover all five seen classes.
inner = ClassDisjointSplit(n_splits=3, test_size=2, random_state=3)
for split, (_, held_out) in enumerate(inner.split(X[seen], y[seen])):
    print(f"inner split {split} holds out classes {sorted(int(c) for c in set(y[seen][held_out]))}")
search = GridSearchCV(
    make_gcrdp_pipeline(n_image_features=128, random_state=0, device="cpu"),
    {"extract__instance_weight": [0.0, 0.5, 0.9]},
    cv=inner,
    n_jobs=2,
)
search.fit(X[seen], y[seen])
print("best:", search.best_params_, f"inner-CV mAP {search.best_score_:.4f}")
print(f"unseen-class mAP of the refitted best model: {search.score(X[unseen], y[unseen]):.4f}")

# %%
# Any other retrieval metric scores the refitted model through a scorer.
ndcg10 = make_retrieval_scorer("ndcg", k=10)
print(f"unseen-class nDCG@10: {ndcg10(search.best_estimator_, X[unseen], y[unseen]):.4f}")

# %%
# The inner-CV score of each value, split by split.
results = search.cv_results_
fig, ax = plt.subplots(figsize=(5.5, 3.2))
values = list(results["param_extract__instance_weight"])
for split in range(search.n_splits_):
    ax.plot(values, results[f"split{split}_test_score"], marker="o", alpha=0.6,
            label=f"inner split {split}")
ax.plot(values, results["mean_test_score"], marker="s", color="black", linewidth=2, label="mean")
ax.set_xticks(values)
ax.set_xlabel("extract__instance_weight")
ax.set_ylabel("inner-CV mAP (held-out classes)")
ax.legend(fontsize=8, loc="best")
fig.tight_layout()
plt.show()
