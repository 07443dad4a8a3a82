"""Retrieval by relative profiles over paired anchors, against GCRDP and the baselines.

    python benchmarks/relative_profiles.py [wikipedia|openclipart] [all|K] [episodes] [inner splits]

Exploration for the method work (docs/user_guide/benchmark.md, "Towards a clear lead"). The
seen pairs are anchors: image i and text i describe the same thing. An unseen image
is represented by its cosine similarities to the anchor *images* (input features,
standardised on the seen pairs), an unseen text by its similarities to the anchor
*texts*; both profiles have one coordinate per anchor pair, so they are comparable
across modalities with no training at all (``skgcrdp.baselines.RelativeProfileEmbedder``).
Each profile is centred and scaled to unit length ("cos"), or first passed through
softmax(similarity / 0.2) ("soft").
Profiles preserve relative distances by construction, the idea behind GCRDP's RDP
part, in a form that needs no cross-modal map. Also measured: profiles over the
anchors' GCRDP embeddings ("shared-space"), profiles that both run over the anchor
texts ("bridged": an image's through the shared space, a text's in input space), and
sums of GCRDP's or PLS's scores with profile scores at several weights.

For each outer episode (the benchmark's own, same seed) every variant is scored by
an inner class-disjoint CV inside the seen classes (4 draws unless given, half of
the seen classes held out each time): that is the number to choose by, also given
as the paired difference to GCRDP over the same folds (± standard error). The
unseen-class mAP of the variant fitted on all seen classes is printed beside it,
for information only.
"""

import sys
import time
import warnings

import numpy as np
from sklearn.cross_decomposition import PLSCanonical

from skgcrdp import make_gcrdp_pipeline
from skgcrdp.baselines import (
    CrossDecompositionEmbedder,
    RelativeProfileEmbedder,
    centred_profiles,
)
from skgcrdp.benchmark import load_benchmark_data
from skgcrdp.metrics import mean_average_precision, normalize_rows
from skgcrdp.model_selection import ClassDisjointSplit



def both_directions(S, y):
    return (mean_average_precision(y, y, S) + mean_average_precision(y, y, S.T)) / 2


def profiles(X_train, X_test, n_image, temperature):
    """The test pairs' profiles over the training pairs: (image half, text half)."""
    Z = RelativeProfileEmbedder(n_image, temperature=temperature).fit(X_train).transform(X_test)
    half = Z.shape[1] // 2
    return Z[:, :half], Z[:, half:]


def halves(Z):
    half = Z.shape[1] // 2
    return normalize_rows(Z[:, :half]), normalize_rows(Z[:, half:])


def embedding_scores(model, X_train, y_train, X_test, extra=None):
    model.fit(X_train, y_train)
    image, text = halves(model.transform(X_test))
    if extra is not None:
        extra["train"] = halves(model.transform(X_train))
        extra["test"] = (image, text)
    return image @ text.T


def shared_profile_scores(extra):
    """Profiles over the anchors' embeddings in the fitted shared space, within each modality."""
    (anchor_image, anchor_text), (image, text) = extra["train"], extra["test"]
    return centred_profiles(image @ anchor_image.T) @ centred_profiles(text @ anchor_text.T).T


def bridged_profile_scores(extra, text_profile):
    """Both profiles over the anchor *texts*: an image's through the shared space, a text's in input space.

    The text features are the more discriminative on both data sets; this
    carries their neighbourhoods over to the images.
    """
    (_, anchor_text), (image, _) = extra["train"], extra["test"]
    return centred_profiles(image @ anchor_text.T) @ text_profile.T


def base_scores(n_image, seed, X_train, y_train, X_test):
    """Image-by-text scores of every fitted method, each fitted once."""
    gcrdp = make_gcrdp_pipeline(n_image, random_state=seed)[:-1]
    extra = {}
    width = min(10, len(X_train) - 1, X_train.shape[1] - n_image)
    pls = CrossDecompositionEmbedder(n_image, PLSCanonical(width, max_iter=1000))
    supcon = make_gcrdp_pipeline(n_image, random_state=seed, align="passthrough",
                                 extract__prototype_weight=0.0, extract__instance_weight=0.0)[:-1]
    scores = {
        "GCRDP (defaults)": embedding_scores(gcrdp, X_train, y_train, X_test, extra),
        "PLS": embedding_scores(pls, X_train, y_train, X_test),
        "SupCon MLP": embedding_scores(supcon, X_train, y_train, X_test),
    }
    cosine = profiles(X_train, X_test, n_image, None)
    soft = profiles(X_train, X_test, n_image, 0.2)
    scores["relative profiles, cos (no training)"] = cosine[0] @ cosine[1].T
    scores["relative profiles, soft 0.2 (no training)"] = soft[0] @ soft[1].T
    scores["GCRDP shared-space profiles"] = shared_profile_scores(extra)
    scores["GCRDP bridged profiles"] = bridged_profile_scores(extra, cosine[1])
    return scores


def all_scores(n_image, seed, X_train, y_train, X_test):
    """The fitted methods' scores and the sums with the cosine profile scores."""
    scores = base_scores(n_image, seed, X_train, y_train, X_test)
    profiles = scores["relative profiles, cos (no training)"]
    for method in ("GCRDP", "PLS"):
        label = "GCRDP (defaults)" if method == "GCRDP" else method
        for weight in (0.5, 1.0, 2.0):
            scores[f"{method} scores + {weight:g} x cos profile scores"] = scores[label] + weight * profiles
    gcrdp = scores["GCRDP (defaults)"]
    scores["GCRDP + shared-space profiles"] = gcrdp + scores["GCRDP shared-space profiles"]
    scores["GCRDP + bridged profiles"] = gcrdp + scores["GCRDP bridged profiles"]
    scores["GCRDP + bridged + cos profiles"] = gcrdp + scores["GCRDP bridged profiles"] + profiles
    soft = scores["relative profiles, soft 0.2 (no training)"]
    scores["GCRDP + soft 0.2 profiles"] = gcrdp + soft
    # A linear branch beside the MLP: the sum of the two methods' cosines.
    scores["GCRDP + PLS scores"] = gcrdp + scores["PLS"]
    scores["GCRDP + PLS + soft 0.2 profiles"] = gcrdp + scores["PLS"] + soft
    scores["PLS + soft 0.2 profiles"] = scores["PLS"] + soft
    return scores


def main(name="openclipart", shots="all", n_episodes=3, inner_splits=4):
    warnings.filterwarnings("ignore")
    data = load_benchmark_data(name)
    k = None if shots == "all" else int(shots)
    X, y, n_image = data.X, data.y, data.n_image_features
    inner, outer = {}, {}
    start = time.perf_counter()
    outer_cv = ClassDisjointSplit(int(n_episodes), test_size=0.5, n_shots=k, random_state=0)
    for episode, (seen, unseen) in enumerate(outer_cv.split(X, y)):
        Xs, ys = X[seen], y[seen]
        inner_cv = ClassDisjointSplit(int(inner_splits), test_size=0.5, random_state=episode)
        for fit, val in inner_cv.split(Xs, ys):
            for label, S in all_scores(n_image, episode, Xs[fit], ys[fit], Xs[val]).items():
                inner.setdefault(label, []).append(both_directions(S, ys[val]))
        for label, S in all_scores(n_image, episode, Xs, ys, X[unseen]).items():
            outer.setdefault(label, []).append(both_directions(S, y[unseen]))
    print(f"{data.name}, K = {shots}, {n_episodes} episodes x {inner_splits} inner splits "
          f"({time.perf_counter() - start:.0f} s)\n")
    print("| variant | inner CV mAP ± se (selects) | paired difference to GCRDP ± se "
          "| unseen mAP (reported) |")
    print("| --- | --- | --- | --- |")
    reference = np.asarray(inner["GCRDP (defaults)"])
    for label in inner:
        scores = np.asarray(inner[label])
        se = scores.std(ddof=1) / np.sqrt(len(scores))
        diff = scores - reference
        diff_se = diff.std(ddof=1) / np.sqrt(len(diff))
        print(f"| {label} | {scores.mean():.4f} ± {se:.4f} | {diff.mean():+.4f} ± {diff_se:.4f} "
              f"| {np.mean(outer[label]):.4f} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
