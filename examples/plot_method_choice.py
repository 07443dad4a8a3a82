"""
Let cross-validation choose the method
======================================

No method wins on every data set (see the user guide's "Which method for my
data?"). Here ``GridSearchCV`` chooses the shared-space step among GCRDP, PLS
and the supervised-contrastive MLP, each with and without relative profiles,
by a class-disjoint cross-validation *inside the seen classes*: every split
holds out half of them. The choice is refitted on all seen pairs and scored
on the unseen classes, which took no part in it.

The plot puts what the choice sees (its inner-CV mAP on held-out seen
classes) beside what each candidate would have scored on the unseen classes.
Small configuration: one Wikipedia episode, all pairs of the five seen
classes, three inner splits; ``scripts/method_choice.py`` runs every episode
of the benchmark on both embedded sets.

Run by hand: ``python examples/plot_method_choice.py``
(30 s on 2 CPU cores with its imports, measured 2026-12-02).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.cross_decomposition import PLSCanonical
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skgcrdp import CrossModalRetriever, make_gcrdp_pipeline
from skgcrdp.baselines import CrossDecompositionEmbedder
from skgcrdp.datasets import load_wikipedia
from skgcrdp.model_selection import ClassDisjointSplit
from skgcrdp.union import make_profile_union

X, y = load_wikipedia(return_X_y=True)
n_image = 128
seen, unseen = next(ClassDisjointSplit(1, random_state=0).split(X, y))


def gcrdp(**params):
    return make_gcrdp_pipeline(n_image, random_state=0, device="cpu", **params)[:-1]


def supcon():
    # The same encoders trained by the plain supervised-contrastive loss.
    return gcrdp(align="passthrough", extract__prototype_weight=0.0, extract__instance_weight=0.0)


def pls():
    return CrossDecompositionEmbedder(n_image, PLSCanonical(10, max_iter=1000))


def profiled(name, member):
    return make_profile_union(name, member, n_image, weight=2.0, random_state=0)


candidates = {"GCRDP": gcrdp(), "PLS": pls(), "SupCon MLP": supcon(),
              "GCRDP + profiles": profiled("gcrdp", gcrdp()),
              "PLS + profiles": profiled("pls", pls()),
              "SupCon MLP + profiles": profiled("supcon", supcon())}

# %%
# The search: one grid entry per candidate step, scored by the pipeline's own
# cross-modal mAP on the held-out seen classes.
search = GridSearchCV(
    Pipeline([("embed", gcrdp()), ("retrieve", CrossModalRetriever())]),
    {"embed": list(candidates.values())},
    # Each split draws its held-out classes at random; with five seen classes
    # draws may repeat, and this seed's three hold out three different pairs.
    cv=ClassDisjointSplit(3, test_size=0.5, random_state=3),
    n_jobs=2,
).fit(X[seen], y[seen])
chosen = list(candidates)[search.best_index_]
print(f"chosen: {chosen} (inner-CV mAP {search.best_score_:.4f})")
print(f"its unseen-class mAP: {search.score(X[unseen], y[unseen]):.4f}")

# %%
# Every candidate refitted on all seen pairs and scored on the unseen classes,
# for comparison only: a user would not have these numbers.
unseen_scores = {}
for name, step in candidates.items():
    model = Pipeline([("embed", clone(step)), ("retrieve", CrossModalRetriever())])
    unseen_scores[name] = model.fit(X[seen], y[seen]).score(X[unseen], y[unseen])
    print(f"{name:22s} inner CV {search.cv_results_['mean_test_score'][list(candidates).index(name)]:.4f}"
          f"   unseen {unseen_scores[name]:.4f}")

# %%
fig, (inner_ax, outer_ax) = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
names = list(candidates)[::-1]
rows = np.arange(len(names))
colors = ["tab:blue" if n == chosen else "tab:gray" for n in names]
inner = [search.cv_results_["mean_test_score"][list(candidates).index(n)] for n in names]
inner_ax.barh(rows, inner, color=colors)
for split in range(search.n_splits_):
    scores = [search.cv_results_[f"split{split}_test_score"][list(candidates).index(n)]
              for n in names]
    inner_ax.scatter(scores, rows, color="black", s=10, zorder=3)
inner_ax.set_yticks(rows, names)
inner_ax.set_xlim(min(inner) - 0.05, max(inner) + 0.03)
inner_ax.set_xlabel("inner-CV mAP, held-out seen classes\n(bars: mean; dots: splits)")
outer_ax.barh(rows, [unseen_scores[n] for n in names], color=colors)
outer_ax.set_xlim(min(unseen_scores.values()) - 0.02, max(unseen_scores.values()) + 0.01)
outer_ax.set_xlabel("mAP on the unseen classes\n(not seen by the choice)")
fig.suptitle(f"Wikipedia, one episode: the choice (blue) is {chosen}", fontsize=10)
fig.tight_layout()
plt.show()
