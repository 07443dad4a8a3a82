"""Approximate search through faiss (optional: ``pip install skgcrdp[faiss]``)."""

import math
from numbers import Integral

import numpy as np

from ._base import SearchIndex, check_state

FAISS_HINT = (
    "algorithm='faiss' needs the faiss-cpu package: pip install faiss-cpu "
    "(or install skgcrdp with the [faiss] extra)."
)
# faiss warns when a coarse quantiser has fewer than this many training
# points per list: a list needs about that many to be placed well.
POINTS_PER_LIST = 39
# Lists at most this many times sqrt(rows) (the top of faiss's usual range),
# and never more than MAX_NLIST: a file cannot ask a load for more k-means work
# than its rows justify.
LISTS_PER_ROOT = 16
MAX_NLIST = 65536
# faiss computes in float32: values above this overflow its products.
FLOAT32_SAFE = 1e17


def import_faiss():
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(FAISS_HINT) from exc
    return faiss


def max_nlist(n_rows):
    """The most coarse lists a gallery of ``n_rows`` rows may have."""
    return max(1, min(n_rows // POINTS_PER_LIST, int(LISTS_PER_ROOT * math.sqrt(n_rows)), MAX_NLIST))


def _whole(value):
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def check_index_params(index_params, n_rows=None, name="index_params", rows_of="a gallery"):
    """Check ``index_params`` as a faiss index takes them: ``{"nlist": int, "nprobe": int}``.

    Both keys are optional. With ``n_rows``, also the bound on ``nlist`` that
    the rows allow (:func:`max_nlist`); ``rows_of`` says whose rows they are
    in the error (a shard's, in a sharded gallery). Nothing is built; a clear
    ``ValueError`` otherwise. Returns the parameters with their defaults
    filled in (``nlist`` only with ``n_rows``).
    """
    if index_params is None:
        index_params = {}
    if not isinstance(index_params, dict):
        raise ValueError(f"{name} must be a dict or None, got {type(index_params).__name__}.")
    unknown = sorted(str(key) for key in set(index_params) - {"nlist", "nprobe"})
    if unknown:
        raise ValueError(f"Unknown {name} {unknown[:3]}; faiss takes 'nlist' and 'nprobe'.")
    for key, value in index_params.items():
        if not _whole(value) or value < 1:
            raise ValueError(f"{name}[{key!r}] must be an int >= 1, got {value!r:.60}.")
    params = {"nprobe": int(index_params.get("nprobe", 16))}
    if n_rows is not None:
        nlist = int(index_params.get("nlist", max(1, min(int(math.sqrt(n_rows)),
                                                         n_rows // POINTS_PER_LIST))))
        if nlist > max_nlist(n_rows):
            raise ValueError(
                f"{name}['nlist']={nlist} is too many lists for {rows_of} of {n_rows} rows: at "
                f"most {max_nlist(n_rows)} (about {POINTS_PER_LIST} rows per list, at most "
                f"{LISTS_PER_ROOT} x sqrt(rows) and {MAX_NLIST})."
            )
        params["nlist"] = nlist
    return params


def check_float32_range(X, what):
    """Refuse rows whose products overflow float32, the precision faiss computes in."""
    largest = float(np.abs(X).max()) if X.size else 0.0
    if largest > FLOAT32_SAFE:
        raise ValueError(
            f"{what} hold values up to {largest:.3g}: faiss computes in float32, where their "
            "products overflow. Rescale them, use cosine similarity, or algorithm='brute'."
        )


def build_ivf(gallery, similarity, index_params=None, rows_of="a gallery"):
    """An inverted-file index (``IndexIVFFlat``) over the gallery rows.

    ``index_params`` may set ``nlist`` (coarse clusters; default about
    ``sqrt(n)``, fewer for small galleries, at most :func:`max_nlist`) and
    ``nprobe`` (clusters visited per query; default 16). Cosine and dot use
    inner products (pass unit rows for cosine), Euclidean uses L2.
    """
    faiss = import_faiss()
    X = np.ascontiguousarray(gallery, dtype=np.float32)
    n, d = X.shape
    params = check_index_params(index_params, n, rows_of=rows_of)
    check_float32_range(gallery, "The gallery's embeddings")
    faiss_metric = faiss.METRIC_L2 if similarity == "euclidean" else faiss.METRIC_INNER_PRODUCT
    quantizer = faiss.IndexFlat(d, faiss_metric)
    index = faiss.IndexIVFFlat(quantizer, d, params["nlist"], faiss_metric)
    index.train(X)
    index.add(X)
    # Set once here and only read afterwards: searches pass their own
    # parameters, so concurrent searches never see each other's.
    index.nprobe = min(params["nlist"], params["nprobe"])
    return index


def search_ivf(index, queries, k):
    """Scores (similarity: higher is closer) and indices of the ``k`` nearest.

    The index is only read: a query whose probed lists hold fewer than
    ``k`` items is searched again in all lists through per-call search
    parameters, never by changing the shared index.
    """
    faiss = import_faiss()
    check_float32_range(queries, "The queries")
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    distances, indices = index.search(queries, k, params=faiss.SearchParametersIVF(nprobe=index.nprobe))
    short = np.flatnonzero((indices < 0).any(axis=1))
    if short.size:
        every_list = faiss.SearchParametersIVF(nprobe=index.nlist)
        distances[short], indices[short] = index.search(queries[short], k, params=every_list)
    if index.metric_type == faiss.METRIC_L2:
        # faiss returns squared distances; the brute search's score is minus that.
        return -distances, indices
    return distances, indices


class FaissIndex(SearchIndex):
    """The gallery in memory with an inverted-file faiss index over it, searched approximately.

    Pickled (and saved by :func:`skgcrdp.save`) as its rows and parameters;
    the faiss index is rebuilt from them when it is loaded, so no faiss bytes
    are ever read from a file, and only after the parameters pass the
    bounds the rows allow (:func:`max_nlist`), so a load's work is bounded
    by the rows in the file. faiss trains its coarse quantiser with a fixed
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
        check_state(self, state, {"vectors", "similarity", "index_params"})
        self.vectors, self.similarity = state.get("vectors"), state.get("similarity")
        self._check_rows()
        # Before any work: the rebuild's cost is bounded by the rows it is given.
        check_index_params(state.get("index_params"), self.vectors.shape[0],
                           "FaissIndex.index_params")
        self.__init__(self.vectors, self.similarity, state.get("index_params"))
