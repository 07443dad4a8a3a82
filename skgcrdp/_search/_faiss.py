"""Approximate search through faiss (optional: ``pip install skgcrdp[faiss]``)."""

import math

import numpy as np

from ._base import SearchIndex

FAISS_HINT = (
    "algorithm='faiss' needs the faiss-cpu package: pip install faiss-cpu "
    "(or install skgcrdp with the [faiss] extra)."
)
# faiss warns when a coarse quantiser has fewer than this many points per list.
POINTS_PER_LIST = 39


def import_faiss():
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(FAISS_HINT) from exc
    return faiss


def build_ivf(gallery, similarity, index_params=None):
    """An inverted-file index (``IndexIVFFlat``) over the gallery rows.

    ``index_params`` may set ``nlist`` (coarse clusters; default about
    ``sqrt(n)``, fewer for small galleries) and ``nprobe`` (clusters
    visited per query; default 16). Cosine and dot use inner products
    (pass unit rows for cosine), Euclidean uses L2.
    """
    faiss = import_faiss()
    params = dict(index_params or {})
    unknown = set(params) - {"nlist", "nprobe"}
    if unknown:
        raise ValueError(f"Unknown index_params {sorted(unknown)}; faiss takes 'nlist' and 'nprobe'.")
    X = np.ascontiguousarray(gallery, dtype=np.float32)
    n, d = X.shape
    nlist = int(params.get("nlist", max(1, min(int(math.sqrt(n)), n // POINTS_PER_LIST))))
    if not 1 <= nlist <= n:
        raise ValueError(f"nlist must be between 1 and the gallery size {n}, got {nlist}.")
    faiss_metric = faiss.METRIC_L2 if similarity == "euclidean" else faiss.METRIC_INNER_PRODUCT
    quantizer = faiss.IndexFlat(d, faiss_metric)
    index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss_metric)
    index.train(X)
    index.add(X)
    index.nprobe = min(nlist, int(params.get("nprobe", 16)))
    return index


def search_ivf(index, queries, k):
    """Scores (similarity: higher is closer) and indices of the ``k`` nearest."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    distances, indices = index.search(queries, k)
    short = np.flatnonzero((indices < 0).any(axis=1))
    if short.size:
        # The probed lists held fewer than k items: search those queries in all lists.
        nprobe, index.nprobe = index.nprobe, index.nlist
        distances[short], indices[short] = index.search(queries[short], k)
        index.nprobe = nprobe
    faiss = import_faiss()
    if index.metric_type == faiss.METRIC_L2:
        # faiss returns squared distances; the brute search's score is minus that.
        return -distances, indices
    return distances, indices


class FaissIndex(SearchIndex):
    """The gallery in memory with an inverted-file faiss index over it, searched approximately.

    Pickled (and saved by :func:`skgcrdp.save`) as its rows and parameters;
    the faiss index is rebuilt from them when it is loaded, so no faiss bytes
    are ever read from a file. faiss trains its coarse quantiser with a fixed
    seed, so the rebuilt index answers as the original did.
    """

    def __init__(self, vectors, similarity, index_params=None):
        self.vectors = vectors
        self.similarity = similarity
        self.index_params = index_params
        self.index = build_ivf(vectors, similarity, index_params)

    @property
    def shape(self):
        return self.vectors.shape

    def search(self, queries, k):
        return search_ivf(self.index, queries, k)

    def __getstate__(self):
        return {"vectors": self.vectors, "similarity": self.similarity,
                "index_params": self.index_params}

    def __setstate__(self, state):
        self.vectors, self.similarity = state["vectors"], state["similarity"]
        self._check_rows()
        self.__init__(state["vectors"], state["similarity"], state["index_params"])
