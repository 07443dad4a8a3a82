"""Search backends behind one interface: exact, faiss and sharded (dask) galleries.

:func:`build_index` picks the backend for a gallery; the retriever and the
persistence code only ever see :class:`SearchIndex` objects.
"""

import numpy as np

from ..utils import is_dask_array
from ._base import SearchIndex, check_state, count_rest
from ._exact import ExactIndex, as_searchable, check_block_size, exact_top_k
from ._faiss import FaissIndex, check_index_params
from ._sharded import ShardedIndex

__all__ = [
    "ExactIndex",
    "FaissIndex",
    "SearchIndex",
    "ShardedIndex",
    "as_searchable",
    "build_index",
    "check_state",
    "check_block_size",
    "check_index_params",
    "count_rest",
    "exact_top_k",
]


def build_index(Z, similarity, *, algorithm="brute", index_params=None, block_size=None,
                searchable=False):
    """The search index of one gallery: sharded for a dask array, else faiss or exact.

    ``Z`` holds the gallery rows as given; they are made searchable here
    (:func:`as_searchable`: unit rows for cosine), in memory or, for a dask
    array, where each shard lies, unless ``searchable`` says that they
    already are. A dask array's shards are checked for NaN and infinite
    values where they lie, so nothing is gathered.
    """
    if is_dask_array(Z):
        # A plain function travels to the workers, not the retriever.
        shards = Z.map_blocks(_searchable_shard, similarity, dtype=Z.dtype)
        return ShardedIndex(shards, similarity,
                            (index_params or {}) if algorithm == "faiss" else None)
    vectors = Z if searchable else as_searchable(Z, similarity)
    if algorithm == "faiss":
        return FaissIndex(vectors, similarity, index_params)
    return ExactIndex(vectors, similarity, block_size)


def _searchable_shard(block, similarity, block_info=None):
    """One shard of a dask gallery, checked for finite values and made searchable."""
    bad = np.flatnonzero(~np.isfinite(block).all(axis=1))
    if bad.size:
        start = block_info[0]["array-location"][0][0] if block_info else 0
        rows = count_rest([int(start + row) for row in bad])
        raise ValueError(f"Z holds NaN or infinite values in row(s) {rows}; a gallery needs "
                         "finite embeddings.")
    return as_searchable(block, similarity)
