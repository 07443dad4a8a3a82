"""
Searching a large gallery: exact against faiss
==============================================

The default search of :class:`~skgcrdp.CrossModalRetriever` is exact and
bounded in memory. ``algorithm="faiss"`` builds an approximate inverted-file
index (it needs the faiss extra), whose ``nprobe`` trades speed for recall.
Here a gallery of 100,000 clustered 64-d embeddings, the shape of a GCRDP
shared space, is searched by 500 queries. The plot shows faiss's query
time and recall@10 against the exact answer for several ``nprobe``.

Small configuration (100,000 items); ``scripts/retrieval_speed.py`` runs
the full-size comparison. Without faiss installed, only the exact search runs.

Run by hand: ``python examples/plot_large_gallery_search.py``
(8 s on 2 CPU cores with its imports, measured 2026-12-02).
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from skgcrdp import CrossModalRetriever
from skgcrdp.utils import normalize_rows

rng = np.random.default_rng(0)
n_gallery, n_queries, dim, k = 100_000, 500, 64, 10
centres = rng.standard_normal((500, dim)).astype(np.float32)


def clustered(n):
    # Real embeddings cluster by class; approximate search depends on that.
    return normalize_rows(centres[rng.integers(0, len(centres), n)]
                          + 0.5 * rng.standard_normal((n, dim)).astype(np.float32))


gallery, queries = clustered(n_gallery), clustered(n_queries)

exact = CrossModalRetriever(n_neighbors=k).fit_gallery(gallery, modality="text")
start = time.perf_counter()
_, truth = exact.kneighbors(queries, query_modality="image")
exact_seconds = time.perf_counter() - start
print(f"exact: {exact_seconds * 1000:.0f} ms for {n_queries} queries")

# %%
# The approximate index at several ``nprobe`` (clusters visited per query).
try:
    import faiss  # noqa: F401
except ImportError:
    faiss = None
    print('faiss is not installed: pip install -e ".[faiss]"')

rows = []
if faiss is not None:
    for nprobe in (1, 4, 16, 64):
        approximate = CrossModalRetriever(
            n_neighbors=k, algorithm="faiss", index_params={"nlist": 512, "nprobe": nprobe})
        approximate.fit_gallery(gallery, modality="text")
        start = time.perf_counter()
        _, found = approximate.kneighbors(queries, query_modality="image")
        seconds = time.perf_counter() - start
        recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(found, truth)])
        rows.append((nprobe, seconds, recall))
        print(f"faiss nprobe={nprobe:3d}: {seconds * 1000:6.1f} ms, recall@{k} {recall:.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.scatter([exact_seconds * 1000], [1.0], marker="s", color="black", zorder=3,
           label="exact search (recall 1)")
if rows:
    nprobes, seconds, recalls = zip(*rows)
    ax.plot(np.array(seconds) * 1000, recalls, marker="o", label="faiss IVF, by nprobe")
    for nprobe, s, r in rows:
        # Labels above the points, clear of the line and of each other.
        ax.annotate(str(nprobe), (s * 1000, r), textcoords="offset points", xytext=(0, 7),
                    ha="center", fontsize=8)
ax.set_xscale("log")
if rows:
    ax.set_ylim(min(recalls) - 0.01, 1.005)   # recall cannot pass 1; labels sit above
ax.set_xlabel(f"time for {n_queries} queries (ms, log scale)")
ax.set_ylabel(f"recall@{k}")
ax.set_title(f"{n_gallery:,} × {dim} gallery")
ax.legend(fontsize=8, loc="lower right", frameon=True)
fig.tight_layout()
plt.show()
