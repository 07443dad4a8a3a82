"""Search backends behind one interface: exact, faiss and sharded (dask) galleries.

:func:`build_index` picks the backend for a gallery; the retriever and the
persistence code only ever see :class:`SearchIndex` objects.
"""

from ..utils import is_dask_array
from ._base import SearchIndex
from ._exact import ExactIndex, exact_top_k, prepare_gallery
from ._faiss import FaissIndex
from ._sharded import ShardedIndex

__all__ = [
    "ExactIndex",
    "FaissIndex",
    "SearchIndex",
    "ShardedIndex",
    "build_index",
    "exact_top_k",
    "prepare_gallery",
]


def build_index(Z, similarity, *, algorithm="brute", index_params=None, block_size=None,
                prepared=False):
    """The search index of one gallery: sharded for a dask array, else faiss or exact.

    ``Z`` holds the gallery rows as given; they are prepared here (unit rows
    for cosine), in memory or, for a dask array, where each shard lies,
    unless ``prepared`` says that they already are.
    """
    if is_dask_array(Z):
        # Shards are prepared where they lie; a plain function travels, not the retriever.
        prepared = Z.map_blocks(prepare_gallery, similarity, dtype=Z.dtype)
        return ShardedIndex(prepared, similarity,
                            (index_params or {}) if algorithm == "faiss" else None)
    vectors = Z if prepared else prepare_gallery(Z, similarity)
    if algorithm == "faiss":
        return FaissIndex(vectors, similarity, index_params)
    return ExactIndex(vectors, similarity, block_size)
