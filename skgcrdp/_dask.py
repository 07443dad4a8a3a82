"""Dask support: row-chunked embedding, sharded gallery search, torch threads on workers.

Dask is optional (``pip install -e ".[dask]"``); nothing here imports it
unless the caller already handed over a dask collection or runs on a worker.
"""

import functools
import sys

import numpy as np

from ._search import exact_top_k


def is_dask_array(X):
    """True for a ``dask.array.Array``, without importing dask when it is not loaded."""
    if "dask.array" not in sys.modules:
        return False
    import dask.array as da

    return isinstance(X, da.Array)


def map_rows(function, owner, X):
    """Apply ``function(owner, block)`` to each row chunk of a dask array, lazily.

    ``owner`` (a fitted estimator) enters the graph once, as its own task, so
    each worker receives it once and not with every chunk. The result is a
    dask array with the same row chunks; its width and dtype are those of
    ``function`` on one row of zeros, computed here.
    """
    import dask
    import dask.array as da

    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array, got {X.ndim}-D.")
    probe = np.asarray(function(owner, np.zeros((1, X.shape[1]), dtype=X.dtype)))
    width, dtype = probe.shape[1], probe.dtype
    # Every chunk must hold whole rows: an estimator needs all of a row's columns.
    X = X.rechunk({1: -1})
    owner = dask.delayed(owner, pure=True, traverse=False)
    return da.map_blocks(
        _apply, function, owner, X, dtype, dtype=dtype, chunks=(X.chunks[0], (width,)),
        meta=np.empty((0, width), dtype=dtype),
    )


def _apply(function, owner, block, dtype):
    return np.asarray(function(owner, block), dtype=dtype)


class ShardedGallery:
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

    def __init__(self, Z, metric, index_params=None):
        self.metric = metric
        self.shards = Z.rechunk({1: -1}).persist()
        self.offsets = np.concatenate([[0], np.cumsum(self.shards.chunks[0])[:-1]]).astype(np.intp)
        self.shape = self.shards.shape
        self._blocks = self.shards.to_delayed().ravel().tolist()
        client = _client()
        if client is not None:
            from distributed import futures_of, wait

            futures = {future.key: future for future in futures_of(self.shards)}
            self._blocks = [futures[block.key] for block in self._blocks]
            wait(self._blocks)
        self._indexes = None
        if index_params is not None:
            from ._faiss_index import build_index, import_faiss

            import_faiss()   # fail here, with the install hint, rather than on a worker
            self._indexes = self._on_each_shard(build_index, self._blocks, metric, index_params)

    def __len__(self):
        return self.shape[0]

    def _on_each_shard(self, function, shards, *args, offsets=None):
        """``function(shard, *args[, offset])`` per shard, where the shard lies; not gathered."""
        import dask

        offsets = [()] * len(shards) if offsets is None else [(o,) for o in offsets]
        client = _client()
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

    def top_k(self, queries, k):
        """Scores and global indices of the ``k`` best gallery rows per query, best first."""
        import dask

        if self._indexes is None:
            # Cosine galleries hold unit rows, so their search is a dot product.
            metric = "dot" if self.metric == "cosine" else self.metric
            parts = self._on_each_shard(_shard_top_k, self._blocks, queries, k, metric,
                                        offsets=self.offsets)
        else:
            parts = self._on_each_shard(_shard_index_top_k, self._indexes, queries, k,
                                        offsets=self.offsets)
        client = _client()
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

    def gather(self):
        """The whole gallery as one in-memory array."""
        return np.asarray(self.shards.compute())


def _client():
    """The distributed client in use, or None (no cluster: dask's local schedulers)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_client

    try:
        return get_client()
    except ValueError:
        return None


def _shard_top_k(block, queries, k, metric, offset):
    scores, indices = exact_top_k(queries, block, min(k, block.shape[0]), metric)
    return scores, indices + offset


def _shard_index_top_k(index, queries, k, offset):
    from ._faiss_index import search

    scores, indices = search(index, queries, min(k, index.ntotal))
    return scores, indices + offset


def worker_threads():
    """Threads of the dask worker running this code, or None outside a worker."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return get_worker().state.nthreads
    except (ValueError, AttributeError):
        return None


def rows_in_parallel(method):
    """Let a ``transform``-like method take a dask array: it then maps over row chunks.

    The fitted estimator travels to each worker once (see :func:`map_rows`).
    """

    @functools.wraps(method)
    def wrapper(self, X, *args, **kwargs):
        if not is_dask_array(X):
            return method(self, X, *args, **kwargs)
        return map_rows(functools.partial(_call, method.__name__, args, kwargs), self, X)

    return wrapper


def _call(name, args, kwargs, owner, block):
    return getattr(owner, name)(block, *args, **kwargs)
