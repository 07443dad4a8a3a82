"""Transductive re-ranking with a Gaussian mixture fitted on the unseen gallery (a negative result).

    python benchmarks/gallery_mixture_rerank.py [wikipedia|openclipart] [all|K]

Exploration for the method work (docs/user_guide/benchmark.md, "Towards a clear lead"). After
fitting GCRDP (defaults) or PLS on the seen classes, a diagonal Gaussian mixture is
fitted on the unseen pairs' embeddings, either on both modalities together ("joint")
or, per direction, on the gallery modality alone; the score of a query and a gallery
item becomes (1 - a) cosine + a <posterior(query), posterior(item)>. Components: as
many as seen classes, or twice that. 3 of the benchmark's episodes; the unseen-class
mAP is reported, and nothing here was adopted.
"""

import sys
import warnings

import numpy as np
from sklearn.cross_decomposition import PLSCanonical
from sklearn.mixture import GaussianMixture

from skgcrdp import make_gcrdp_pipeline
from skgcrdp.baselines import CrossDecompositionEmbedder
from skgcrdp.benchmark import load_benchmark_data
from skgcrdp.metrics import mean_average_precision, normalize_rows
from skgcrdp.model_selection import ClassDisjointSplit


def both_directions(S, y):
    return (mean_average_precision(y, y, S) + mean_average_precision(y, y, S.T)) / 2


def mixture(n_components, Z):
    return GaussianMixture(n_components, covariance_type="diag", reg_covar=1e-3,
                           random_state=0).fit(Z)


def reranked(Zi, Zt, y, n_components, weight, joint):
    if joint:
        gmm = mixture(n_components, np.vstack([Zi, Zt]))
        S = (1 - weight) * Zi @ Zt.T + weight * gmm.predict_proba(Zi) @ gmm.predict_proba(Zt).T
        return both_directions(S, y)
    scores = []
    for Q, G in ((Zi, Zt), (Zt, Zi)):
        gmm = mixture(n_components, G)
        S = (1 - weight) * Q @ G.T + weight * gmm.predict_proba(Q) @ gmm.predict_proba(G).T
        scores.append(mean_average_precision(y, y, S))
    return np.mean(scores)


def main(name="openclipart", shots="all"):
    warnings.filterwarnings("ignore")
    data = load_benchmark_data(name)
    n_image, k = data.n_image_features, None if shots == "all" else int(shots)
    results = {}
    cv = ClassDisjointSplit(3, test_size=0.5, n_shots=k, random_state=0)
    for episode, (seen, unseen) in enumerate(cv.split(data.X, data.y)):
        y = data.y[unseen]
        n_seen = len(np.unique(data.y[seen]))
        models = {
            "GCRDP": make_gcrdp_pipeline(n_image, random_state=episode)[:-1],
            "PLS": CrossDecompositionEmbedder(n_image, PLSCanonical(min(10, len(seen) - 1),
                                                                    max_iter=1000)),
        }
        for method, model in models.items():
            Z = model.fit(data.X[seen], data.y[seen]).transform(data.X[unseen])
            half = Z.shape[1] // 2
            Zi, Zt = normalize_rows(Z[:, :half]), normalize_rows(Z[:, half:])
            results.setdefault((method, "no re-ranking"), []).append(both_directions(Zi @ Zt.T, y))
            for factor in (1, 2):
                for weight in (0.3, 0.6):
                    for joint in (True, False):
                        key = (method, f"{factor} x seen classes, a = {weight}, "
                                       f"{'joint' if joint else 'gallery only'}")
                        results.setdefault(key, []).append(
                            reranked(Zi, Zt, y, factor * n_seen, weight, joint))
    print(f"| {data.name}, K = {shots} | re-ranking | unseen mAP |\n| --- | --- | --- |")
    for (method, variant), scores in results.items():
        print(f"| {method} | {variant} | {np.mean(scores):.4f} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
