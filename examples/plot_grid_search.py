"""
Grid search for unseen classes
==============================

Ordinary ``StratifiedKFold`` would reward fitting the seen classes; the
class-disjoint splitter validates on classes that the training folds never
saw. No ``scoring=`` is needed: the pipeline's ``score`` is cross-modal mAP.
Small configuration: two values, two inner splits, inside the five seen
Wikipedia classes.

Run by hand: ``python examples/plot_grid_search.py`` (about 30 s on 2 CPU cores).
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

search = GridSearchCV(
    make_gcrdp_pipeline(n_image_features=128, random_state=0, device="cpu"),
    {"extract__instance_weight": [0.0, 0.9]},
    cv=ClassDisjointSplit(n_splits=2, test_size=2, random_state=0),  # inside the seen classes
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
fig, ax = plt.subplots(figsize=(5, 3))
values = [str(v) for v in results["param_extract__instance_weight"]]
for split in range(search.n_splits_):
    ax.plot(values, results[f"split{split}_test_score"], marker="o", label=f"inner split {split}")
ax.plot(values, results["mean_test_score"], marker="s", color="black", label="mean")
ax.set_xlabel("extract__instance_weight")
ax.set_ylabel("inner-CV mAP (held-out classes)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
