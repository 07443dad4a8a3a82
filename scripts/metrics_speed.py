"""Speed and memory of skgcrdp's retrieval metrics against scikit-learn, in one process.

    python scripts/metrics_speed.py            # 5000 x 5000, then 50,000 x 50,000
    python scripts/metrics_speed.py --small    # 5000 x 5000 only

Every ratio is measured here, on this machine, against a baseline run in the
same process on the same input: scikit-learn's own function where it has one
(``label_ranking_average_precision_score`` for mAP@all, ``ndcg_score`` for
nDCG@k), and for precision/recall/mAP@k a plain full-sort implementation.
"""

import sys
import time
import tracemalloc

import numpy as np
from sklearn.metrics import label_ranking_average_precision_score, ndcg_score

from skgcrdp.metrics import (
    embedding_retrieval_score,
    mean_average_precision,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)

N, N_CLASSES, K = 5000, 10, 10


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def full_sort_at_k(metric, y_query, y_gallery, scores, k):
    """Baseline: argsort every row, then read the top k (ties broken by index)."""
    relevant = y_query[:, None] == y_gallery[None, :]
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(relevant, order, axis=1)
    n_relevant = relevant.sum(axis=1)
    if metric == "precision":
        return np.mean(top.sum(axis=1) / k)
    if metric == "recall":
        return np.mean(top.sum(axis=1) / n_relevant)
    hits = np.cumsum(top, axis=1)
    precision = np.where(top, hits / np.arange(1, k + 1), 0.0).sum(axis=1)
    return np.mean(precision / np.minimum(n_relevant, k))


def score_matrix_table():
    rng = np.random.default_rng(0)
    y_query = rng.integers(0, N_CLASSES, N)
    y_gallery = rng.integers(0, N_CLASSES, N)
    scores = rng.standard_normal((N, N)).astype(np.float32)
    relevance = y_query[:, None] == y_gallery[None, :]
    print(f"## Score matrix {N} x {N} (float32, {N_CLASSES} classes, untied scores)\n")
    print("| metric | skgcrdp (s) | baseline | baseline (s) | speed-up | same value |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = [
        ("mAP@all", lambda: mean_average_precision(y_query, y_gallery, scores),
         "sklearn label_ranking_average_precision_score",
         lambda: label_ranking_average_precision_score(relevance, scores)),
        (f"nDCG@{K}", lambda: ndcg_at_k(y_query, y_gallery, scores, k=K),
         f"sklearn ndcg_score(k={K})", lambda: ndcg_score(relevance.astype(float), scores, k=K)),
    ]
    for name, function in (("precision", precision_at_k), ("recall", recall_at_k),
                           ("map", mean_average_precision)):
        rows.append((
            f"{name}@{K}", lambda f=function: f(y_query, y_gallery, scores, k=K),
            "full argsort of every row",
            lambda m=name: full_sort_at_k(m, y_query, y_gallery, scores, K),
        ))
    for name, ours, baseline_name, baseline in rows:
        value, seconds = timed(ours)
        expected, baseline_seconds = timed(baseline)
        same = np.isclose(value, expected, rtol=1e-9, atol=1e-12)
        print(f"| {name} | {seconds:.3f} | {baseline_name} | {baseline_seconds:.3f} | "
              f"{baseline_seconds / seconds:.1f}x | {'yes' if same else f'NO ({value} vs {expected})'} |",
              flush=True)


def large_table(n=50_000, d=64, n_classes=50):
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((n_classes, d)).astype(np.float32)
    y_query = rng.integers(0, n_classes, n)
    y_gallery = rng.integers(0, n_classes, n)
    Z_query = centres[y_query] + 2 * rng.standard_normal((n, d)).astype(np.float32)
    Z_gallery = centres[y_gallery] + 2 * rng.standard_normal((n, d)).astype(np.float32)
    full = n * n * 8 / 2**30
    print(f"\n## Embeddings {n} x {d} against {n} x {d} (float32, {n_classes} classes)\n")
    print(f"The full similarity matrix would take {full:.1f} GiB in float64.\n")
    print("| metric | time (s) | peak traced memory (MiB) | share of the full matrix |")
    print("| --- | --- | --- | --- |")
    for name, kwargs in (("mAP@all", {}), (f"nDCG@{K}", {"metric": "ndcg", "k": K})):
        tracemalloc.start()
        value, seconds = timed(embedding_retrieval_score, Z_query, Z_gallery, y_query, y_gallery, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"| {name} = {value:.4f} | {seconds:.1f} | {peak / 2**20:.0f} | "
              f"{peak / 2**30 / full:.2%} |", flush=True)


if __name__ == "__main__":
    score_matrix_table()
    if "--small" not in sys.argv:
        large_table()
