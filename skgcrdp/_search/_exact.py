"""Exact search: every query against every gallery row, in bounded memory."""

import numpy as np

from ..utils import normalize_rows, overflow_safe, similarity_matrix
from ._base import SearchIndex, check_state

# Gallery rows per tile: a tile of the gallery (here 8192 x d floats) stays in
# cache while every query of the block is compared with it.
GALLERY_TILE = 8192
# Queries per block: a block's similarity tile is QUERY_BLOCK x GALLERY_TILE.
QUERY_BLOCK = 1024


def _merge(top_scores, top_indices, rows, cols, scores, k):
    """Merge candidates ``(rows, cols, scores)`` into each row's current top k."""
    n, _ = top_scores.shape
    all_rows = np.concatenate([np.repeat(np.arange(n), k), rows])
    all_cols = np.concatenate([top_indices.ravel(), cols])
    all_scores = np.concatenate([top_scores.ravel(), scores])
    # Row, then score descending, then index ascending: ties keep the lower index.
    order = np.lexsort((all_cols, -all_scores, all_rows))
    # Every row holds at least its k current entries; keep its first k.
    starts = np.concatenate([[0], np.cumsum(np.bincount(all_rows, minlength=n))[:-1]])
    keep = order[(starts[:, None] + np.arange(k)[None, :]).ravel()].reshape(n, k)
    return all_scores[keep], all_cols[keep]


def exact_top_k(queries, gallery, k, similarity="dot", gallery_tile=GALLERY_TILE):
    """The ``k`` most similar gallery rows of each query, best first.

    The gallery is scanned in tiles of ``gallery_tile`` rows. Each query
    keeps its best ``k`` so far; a tile's scores are compared with the
    query's current k-th best and only those strictly above it are merged,
    so after the first tiles almost nothing is sorted and the cost is the
    matrix product. Tiles are scanned in index order and a later item must
    beat the k-th best strictly, so ties keep the lower index, as a stable
    sort of the full row would.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, d)
    gallery : ndarray of shape (n_gallery, d)
    k : int
        At most ``n_gallery``.
    similarity : {"dot", "euclidean"}
        Dot product, or minus the squared Euclidean distance, as in
        :func:`skgcrdp.utils.similarity_matrix` (cosine: pass unit rows and
        ``"dot"``).
    gallery_tile : int
        Gallery rows per tile.

    Returns
    -------
    scores : ndarray of shape (n_queries, k)
        Similarities, descending.
    indices : ndarray of shape (n_queries, k)
        Gallery rows.
    """
    # Huge values are searched in float64 (as similarity would compute them),
    # so that the buffer has the products' dtype.
    queries, gallery = overflow_safe(queries), overflow_safe(gallery)
    n_queries = queries.shape[0]
    dtype = np.result_type(queries.dtype, gallery.dtype)
    top_scores = np.full((n_queries, k), -np.inf, dtype=dtype)
    top_indices = np.zeros((n_queries, k), dtype=np.intp)
    # One buffer for every tile's products: a fresh 30 MB array per tile would
    # cost page faults on every tile.
    buffer = np.empty((n_queries, min(gallery_tile, gallery.shape[0])), dtype=dtype)
    for start in range(0, gallery.shape[0], gallery_tile):
        part = gallery[start : start + gallery_tile]
        tile = similarity_matrix(queries, part, similarity, out=buffer[:, : part.shape[0]])
        # Most rows have nothing in a late tile that beats their k-th best:
        # a row maximum (one fast reduction) rules them out before any
        # element-wise work.
        live = np.flatnonzero(tile.max(axis=1) > top_scores[:, -1])
        if live.size == 0:
            continue
        tile = tile[live]
        above = tile > top_scores[live, -1:]
        if tile.shape[1] > k and np.count_nonzero(above) > 4 * live.size * k:
            # Early tiles: keep only each row's own top k (and ties with its
            # k-th, which the merge orders by index) before merging.
            kth = -np.partition(-tile, k - 1, axis=1)[:, k - 1 : k]
            above &= tile >= kth
        rows, cols = np.divmod(np.flatnonzero(above), tile.shape[1])
        merged = _merge(
            top_scores[live], top_indices[live], rows, cols + start, tile[rows, cols], k
        )
        top_scores[live], top_indices[live] = merged
    return top_scores, top_indices


def searched_as(similarity):
    """The similarity a search of searchable rows computes: cosine rows are unit, so a dot product."""
    return "dot" if similarity == "cosine" else similarity


def as_searchable(Z, similarity):
    """Rows as a search compares them, queries and gallery alike.

    float32 is kept, anything else becomes float64; rows become unit rows
    for cosine, and float64 where their products would overflow float32.
    """
    Z = np.asarray(Z, dtype=np.float32 if Z.dtype == np.float32 else np.float64)
    return normalize_rows(Z) if similarity == "cosine" else overflow_safe(Z)


def check_block_size(block_size, name="block_size"):
    """``block_size`` as the exact search takes it: None or a positive int."""
    if block_size is None:
        return None
    if isinstance(block_size, (bool, np.bool_)) or not isinstance(block_size, (int, np.integer)) \
            or block_size < 1:
        raise ValueError(f"{name} must be None or an int >= 1, got {block_size!r:.60}.")
    return int(block_size)


class ExactIndex(SearchIndex):
    """The gallery in memory, searched exactly in blocks of queries (see :func:`exact_top_k`)."""

    def __init__(self, vectors, similarity, block_size=None):
        self.vectors = vectors
        self.similarity = similarity
        self.block_size = block_size

    @property
    def shape(self):
        return self.vectors.shape

    def __setstate__(self, state):
        check_state(self, state, {"vectors", "similarity", "block_size"})
        self.__dict__.update(state)
        self._check_rows()
        check_block_size(self.block_size, "ExactIndex.block_size")

    def search(self, queries, k):
        step = self.block_size or QUERY_BLOCK
        blocks = [exact_top_k(queries[start : start + step], self.vectors, k,
                              searched_as(self.similarity))
                  for start in range(0, queries.shape[0], step)]
        if not blocks:
            return np.empty((0, k)), np.empty((0, k), dtype=np.intp)
        return np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])
