"""Which anchors should the relative profiles use: the seen pairs, Gaussian-mixture means, or both?

    python benchmarks/profile_anchors.py        # both embedded sets, K = all and 5 (about 3 minutes)

Measured for docs/user_guide/benchmark.md ("Fourth round"). The profiles are the softmax
(temperature 0.2) relative profiles of ``skgcrdp.baselines.RelativeProfileEmbedder``, alone (no
learned space, so no torch). Anchors are paired: image anchor j and text anchor j stand for the
same thing. Besides the seen pairs, the mixture anchors are the means of a diagonal Gaussian
mixture fitted per seen class on the pairs' joint ``[image | text]`` unit vectors (2 components;
one for "class means"), so a component's image half and text half are paired too.

For each of 5 outer episodes (the benchmark's own, seed 0), an inner class-disjoint CV of the
seen classes (5 draws, half held out) gives the score that would choose, as a paired difference
to the pair anchors ± standard error; the unseen-class mAP is printed for information only.
"""

import warnings

import numpy as np
from scipy.special import softmax
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from skgcrdp.baselines import centred_profiles
from skgcrdp.benchmark import load_benchmark_data
from skgcrdp.metrics import mean_average_precision, normalize_rows
from skgcrdp.model_selection import ClassDisjointSplit

TEMPERATURE = 0.2
KINDS = ("pairs", "pairs + mixture means", "mixture means (2 per class)", "class means")


def both_directions(S, y):
    return (mean_average_precision(y, y, S) + mean_average_precision(y, y, S.T)) / 2


def mixture_means(A, B, y, n_components):
    """Per-class means of a joint diagonal mixture, split back into paired image and text anchors."""
    image, text = [], []
    for c in np.unique(y):
        joint = np.hstack([A[y == c], B[y == c]])
        if len(joint) > 1:
            k = min(n_components, len(joint))
            joint = GaussianMixture(k, covariance_type="diag", reg_covar=1e-3,
                                    random_state=0).fit(joint).means_
        image.append(joint[:, : A.shape[1]])
        text.append(joint[:, A.shape[1]:])
    return normalize_rows(np.vstack(image)), normalize_rows(np.vstack(text))


def anchors(A, B, y, kind):
    A, B = normalize_rows(A), normalize_rows(B)
    if kind == "pairs":
        return A, B
    means = mixture_means(A, B, y, 1 if kind == "class means" else 2)
    if kind == "pairs + mixture means":
        return np.vstack([A, means[0]]), np.vstack([B, means[1]])
    return means


def profile_scores(X_train, y_train, X_test, n_image, kind):
    scalers = StandardScaler().fit(X_train[:, :n_image]), StandardScaler().fit(X_train[:, n_image:])
    A, B = scalers[0].transform(X_train[:, :n_image]), scalers[1].transform(X_train[:, n_image:])
    anchor_image, anchor_text = anchors(A, B, y_train, kind)
    image = normalize_rows(scalers[0].transform(X_test[:, :n_image])) @ anchor_image.T
    text = normalize_rows(scalers[1].transform(X_test[:, n_image:])) @ anchor_text.T
    image = centred_profiles(softmax(image / TEMPERATURE, axis=1))
    text = centred_profiles(softmax(text / TEMPERATURE, axis=1))
    return image @ text.T


def main():
    warnings.filterwarnings("ignore")
    for name in ("openclipart", "wikipedia"):
        data = load_benchmark_data(name)
        X, y, n_image = data.X, data.y, data.n_image_features
        for shots in (None, 5):
            inner = {kind: [] for kind in KINDS}
            outer = {kind: [] for kind in KINDS}
            episodes = ClassDisjointSplit(5, test_size=0.5, n_shots=shots, random_state=0)
            for episode, (seen, unseen) in enumerate(episodes.split(X, y)):
                Xs, ys = X[seen], y[seen]
                inner_cv = ClassDisjointSplit(5, test_size=0.5, random_state=episode)
                for fit, val in inner_cv.split(Xs, ys):
                    for kind in KINDS:
                        S = profile_scores(Xs[fit], ys[fit], Xs[val], n_image, kind)
                        inner[kind].append(both_directions(S, ys[val]))
                for kind in KINDS:
                    S = profile_scores(Xs, ys, X[unseen], n_image, kind)
                    outer[kind].append(both_directions(S, y[unseen]))
            print(f"\n{data.name}, K = {shots or 'all'}, 5 episodes x 5 inner splits\n")
            print("| anchors | inner CV mAP | paired difference to pairs ± se | unseen mAP (reported) |")
            print("| --- | --- | --- | --- |")
            reference = np.asarray(inner["pairs"])
            for kind in KINDS:
                diff = np.asarray(inner[kind]) - reference
                se = diff.std(ddof=1) / np.sqrt(len(diff))
                print(f"| {kind} | {np.mean(inner[kind]):.4f} | {diff.mean():+.4f} ± {se:.4f} "
                      f"| {np.mean(outer[kind]):.4f} |", flush=True)


if __name__ == "__main__":
    main()
