"""Dask support: row-chunked embedding and torch threads on workers.

Dask is optional (``pip install -e ".[dask]"``); nothing here imports it
unless the caller already handed over a dask collection or runs on a worker.
"""

import functools
import sys

import numpy as np

__all__ = [
    "dask_client",
    "is_dask_array",
    "map_rows",
    "rows_in_parallel",
    "worker_threads",
]



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


def dask_client():
    """Return the distributed client in use, or None (no cluster: dask's local schedulers)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_client

    try:
        return get_client()
    except ValueError:
        return None


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
