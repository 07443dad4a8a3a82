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
    """A gallery kept on the workers as row shards; searched exactly shard by shard.

    Each shard is a chunk of a persisted dask array. A search sends the
    queries to every shard once, each shard keeps its own top k (ties keep
    the lower index, as in the in-memory search), and the per-shard results
    are merged by score, then by global index: the same answer as one
    exact search over the whole gallery.
    """

    def __init__(self, Z):
        self.shards = Z.rechunk({1: -1}).persist()
        _wait(self.shards)
        self.offsets = np.concatenate([[0], np.cumsum(self.shards.chunks[0])[:-1]]).astype(np.intp)
        self.shape = self.shards.shape
        self._blocks = self.shards.to_delayed().ravel().tolist()

    def __len__(self):
        return self.shape[0]

    def top_k(self, queries, k, metric):
        """Scores and global indices of the ``k`` best gallery rows per query, best first."""
        import dask

        delayed = dask.delayed
        queries = delayed(queries, pure=True, traverse=False)
        parts = [
            delayed(_shard_top_k)(queries, block, k, metric, offset)
            for block, offset in zip(self._blocks, self.offsets)
        ]
        results = dask.compute(*parts)
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


def _wait(collection):
    """Block until a persisted collection is computed on a distributed cluster."""
    if "distributed" not in sys.modules:
        return  # the local schedulers compute in persist() itself
    from distributed import get_client, wait

    try:
        get_client()
    except ValueError:
        return
    wait(collection)


def _shard_top_k(queries, block, k, metric, offset):
    scores, indices = exact_top_k(queries, block, min(k, block.shape[0]), metric)
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
