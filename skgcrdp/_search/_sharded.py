"""A gallery held on dask workers as row shards, searched where the shards lie."""

import numpy as np

from ..utils import dask_client
from ._base import SearchIndex
from ._exact import exact_top_k
from ._faiss import build_ivf, import_faiss, search_ivf


class ShardedIndex(SearchIndex):
    """A gallery kept on the workers as row shards, searched shard by shard.

    Each shard is a chunk of a persisted dask array. A search sends the
    queries to every shard once, each shard keeps its own top k (ties keep
    the lower index, as in the in-memory search), and the per-shard results
    are merged by score, then by global index: the same answer as one
    exact search over the whole gallery.

    With ``index_params`` (a dict, possibly empty) each shard also gets a
    faiss index, built on the worker that holds the shard and kept there;
    the shards are then searched approximately, each through its own index.

    On a distributed cluster every task on a shard (its search, its index)
    is pinned to the worker that holds the shard: dask would otherwise be
    free to copy a shard, or a gigabyte-sized index, to an idle worker.
    """

    sharded = True

    def __init__(self, Z, similarity, index_params=None):
        self.similarity = similarity
        self.shards = Z.rechunk({1: -1}).persist()
        self.offsets = np.concatenate([[0], np.cumsum(self.shards.chunks[0])[:-1]]).astype(np.intp)
        self.shape = self.shards.shape
        self._blocks = self.shards.to_delayed().ravel().tolist()
        client = dask_client()
        if client is not None:
            from distributed import futures_of, wait

            futures = {future.key: future for future in futures_of(self.shards)}
            self._blocks = [futures[block.key] for block in self._blocks]
            wait(self._blocks)
        self._indexes = None
        if index_params is not None:
            import_faiss()   # fail here, with the install hint, rather than on a worker
            self._indexes = self._on_each_shard(build_ivf, self._blocks, similarity, index_params)

    def _on_each_shard(self, function, shards, *args, offsets=None):
        """``function(shard, *args[, offset])`` per shard, where the shard lies; not gathered."""
        import dask

        offsets = [()] * len(shards) if offsets is None else [(o,) for o in offsets]
        client = dask_client()
        if client is None:
            return dask.persist(*[dask.delayed(function, pure=True)(shard, *args, *offset)
                                  for shard, offset in zip(shards, offsets)])
        from distributed import wait

        holders = client.who_has(shards)
        args = [client.scatter(a, broadcast=True, hash=False) if isinstance(a, np.ndarray) else a
                for a in args]
        futures = [client.submit(function, shard, *args, *offset, pure=False,
                                 workers=list(holders[shard.key]), allow_other_workers=False)
                   for shard, offset in zip(shards, offsets)]
        wait(futures)
        for future in futures:
            if future.status == "error":
                future.result()   # raises the worker's error here, not at a later search
        return futures

    def search(self, queries, k):
        """Scores and global indices of the ``k`` best gallery rows per query, best first."""
        import dask

        if self._indexes is None:
            # Cosine galleries hold unit rows, so their search is a dot product.
            similarity = "dot" if self.similarity == "cosine" else self.similarity
            parts = self._on_each_shard(_shard_top_k, self._blocks, queries, k, similarity,
                                        offsets=self.offsets)
        else:
            parts = self._on_each_shard(_shard_index_top_k, self._indexes, queries, k,
                                        offsets=self.offsets)
        client = dask_client()
        results = client.gather(parts) if client is not None else dask.compute(*parts)
        scores = np.concatenate([r[0] for r in results], axis=1)
        indices = np.concatenate([r[1] for r in results], axis=1)
        # Score descending, then global index ascending: ties keep the lower index.
        order = np.lexsort((indices, -scores), axis=-1)[:, :k] if scores.shape[0] else \
            np.empty((0, k), dtype=np.intp)
        rows = np.arange(scores.shape[0])[:, None]
        return scores[rows, order], indices[rows, order]

    def __reduce__(self):
        raise TypeError(
            "A gallery held as dask shards stays on the cluster and cannot be pickled or "
            "saved: call retriever.gather_gallery() first."
        )

    @property
    def vectors(self):
        """The whole gallery as one in-memory array (computed from the shards)."""
        return np.asarray(self.shards.compute())


def _shard_top_k(block, queries, k, similarity, offset):
    scores, indices = exact_top_k(queries, block, min(k, block.shape[0]), similarity)
    return scores, indices + offset


def _shard_index_top_k(index, queries, k, offset):
    scores, indices = search_ivf(index, queries, min(k, index.ntotal))
    return scores, indices + offset
