"""A gallery held on dask workers as row shards, searched where the shards lie."""

import threading
import time
from concurrent.futures import CancelledError

import numpy as np

from ..exceptions import LostShardError
from ..utils import dask_client
from ._base import SearchIndex, count_rest
from ._exact import exact_top_k, searched_as
from ._faiss import build_ivf, import_faiss, search_ivf

__all__ = ["SHARD_TIMEOUT", "ShardedIndex"]

#: Seconds a search waits for a shard (or its faiss index) that a lost worker
#: held to be rebuilt on a live worker, and for the shards' answers, before it
#: gives up with a LostShardError.
SHARD_TIMEOUT = 120.0
# Query blocks at least this large are scattered to the workers once per search.
SCATTER_BYTES = 1 << 20


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
    Pins name the holders *at the time of the search*: when a worker is lost
    (killed, restarted), the scheduler recomputes its shards from the graph
    on a live worker, the shards' faiss indexes are rebuilt there, and the
    search goes on; what cannot be had back within ``timeout`` seconds ends
    in a :class:`~skgcrdp.exceptions.LostShardError` that names the shards,
    never in a hang.
    """

    sharded = True

    def __init__(self, Z, similarity, index_params=None, timeout=None):
        self.similarity = similarity
        self.index_params = index_params
        self.timeout = SHARD_TIMEOUT if timeout is None else float(timeout)
        self.shards = Z.rechunk({1: -1}).persist()
        self.offsets = np.concatenate([[0], np.cumsum(self.shards.chunks[0])[:-1]]).astype(np.intp)
        self.shape = self.shards.shape
        self._blocks = self.shards.to_delayed().ravel().tolist()
        client = dask_client()
        if client is not None:
            from distributed import futures_of

            futures = {future.key: future for future in futures_of(self.shards)}
            self._blocks = [futures[block.key] for block in self._blocks]
            # A shard's own error (e.g. NaN rows) is the worker's message.
            self._wait(self._blocks, "stored", raise_worker_errors=True)
        self._indexes = None
        self._index_workers = {}
        self._rebuilding = threading.Lock()
        if index_params is not None:
            import_faiss()   # fail here, with the install hint, rather than on a worker
            self._indexes = [self._build_index(client, i) for i in range(len(self._blocks))]
            if client is not None:
                self._wait(self._indexes, "indexed", raise_worker_errors=True)

    # -- where the shards are ------------------------------------------------

    def _rows(self, i):
        start = int(self.offsets[i])
        return f"shard {i} (rows {start}-{start + self.shards.chunks[0][i] - 1})"

    def _wait(self, futures, doing, raise_worker_errors=False, deadline=None):
        """Wait for ``futures`` until ``deadline`` (default: ``timeout`` s); say clearly what is missing.

        A future the cluster cancelled (every worker holding it was lost or
        restarted, and nothing can recompute it) ends the wait at once: the
        error then says so and how long it took, and claims no timeout.
        """
        from distributed import wait

        start = time.monotonic()
        deadline = start + self.timeout if deadline is None else deadline
        try:
            wait(futures, timeout=max(0.0, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - a timeout or a cancelled future: the statuses tell
            pass
        lost = [i for i, future in enumerate(futures) if future.status != "finished"]
        errors = [futures[i] for i in lost if futures[i].status == "error"]
        if raise_worker_errors and errors:
            errors[0].result()   # the worker's own error (e.g. bad index_params, NaN rows)
        if lost:
            statuses = sorted({futures[i].status for i in lost})
            if set(statuses) <= {"pending", "lost"}:
                what = f"within {self.timeout:g} s (status: {statuses})"
            else:
                what = (f"after {time.monotonic() - start:.1f} s: the cluster dropped it "
                        f"(status: {statuses}), e.g. because every worker holding it restarted")
            raise LostShardError(
                f"{count_rest([self._rows(i) for i in lost])} of the sharded gallery could not be "
                f"{doing} on a live worker {what}; a worker holding it was lost and the cluster "
                "could not rebuild it. Check the cluster, then call fit_gallery again (or "
                "gather_gallery() while the cluster is healthy, to keep a copy in memory)."
            )

    def _build_index(self, client, i, workers=None):
        import dask

        if client is None:
            return dask.delayed(build_ivf, pure=True)(self._blocks[i], self.similarity,
                                                     self.index_params, f"shard {i}").persist()
        workers = workers or list(client.who_has([self._blocks[i]])[self._blocks[i].key])
        self._index_workers[i] = set(workers)
        return client.submit(build_ivf, self._blocks[i], self.similarity, self.index_params,
                             f"shard {i}", pure=False, workers=workers, allow_other_workers=False)

    def _holders(self, client):
        """Where each shard's search runs: its index's holder, or its rows'; rebuilt where lost.

        A shard on a lost worker is recomputed by the scheduler (its future is
        still wanted); an index on a lost worker was pinned there, so it is
        built again next to its shard.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            self._wait(self._blocks, "recomputed", deadline=deadline)
            alive = set(client.ncores())
            shard_holders = {key: [w for w in workers if w in alive]
                             for key, workers in client.who_has(self._blocks).items()}
            missing = [i for i, b in enumerate(self._blocks) if not shard_holders.get(b.key)]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise LostShardError(
                    f"{count_rest([self._rows(i) for i in missing])} of the sharded gallery is held "
                    f"by no live worker after {self.timeout:g} s; call fit_gallery again."
                )
            # The scheduler has not yet seen the worker go: ask again shortly.
            time.sleep(0.2)
        if self._indexes is None:
            return [shard_holders[block.key] for block in self._blocks], self._blocks
        with self._rebuilding:
            # Concurrent searches may find the same index lost: one rebuilds it.
            for i, index in enumerate(self._indexes):
                if not self._index_workers[i] & alive:
                    # Pinned to a worker that is gone, it would wait for it forever:
                    # build it again next to its shard.
                    index.cancel()
                    self._indexes[i] = self._build_index(client, i,
                                                         list(shard_holders[self._blocks[i].key]))
            indexes = list(self._indexes)
        self._wait(indexes, "indexed")
        index_holders = client.who_has(indexes)
        return [[w for w in index_holders[index.key] if w in alive] or shard_holders[block.key]
                for index, block in zip(indexes, self._blocks)], indexes

    # -- searching -------------------------------------------------------------

    def search(self, queries, k):
        """Scores and global indices of the ``k`` best gallery rows per query, best first."""
        if self._indexes is None:
            function, targets, args = _shard_top_k, self._blocks, (k, searched_as(self.similarity))
        else:
            function, targets, args = _shard_index_top_k, self._indexes, (k,)
        client = dask_client()
        if client is None:
            import dask

            results = dask.compute(*[dask.delayed(function, pure=True)(target, queries, *args, o)
                                     for target, o in zip(targets, self.offsets)])
        else:
            results = self._search_on_cluster(client, function, queries, args)
        scores = np.concatenate([r[0] for r in results], axis=1)
        indices = np.concatenate([r[1] for r in results], axis=1)
        # Score descending, then global index ascending: ties keep the lower index.
        order = np.lexsort((indices, -scores), axis=-1)[:, :k] if scores.shape[0] else \
            np.empty((0, k), dtype=np.intp)
        rows = np.arange(scores.shape[0])[:, None]
        return scores[rows, order], indices[rows, order]

    def _search_on_cluster(self, client, function, queries, args):
        # A worker may be lost between finding the holders and the answers
        # coming back: then the holders are found again, once.
        for attempt in range(2):
            holders, targets = self._holders(client)
            # Large query blocks travel once to every worker; small ones ride
            # along with the tasks, which saves a round trip per search.
            sent = (queries if queries.nbytes < SCATTER_BYTES
                    else client.scatter(queries, broadcast=True, hash=False))
            parts = [client.submit(function, target, sent, *args, offset, pure=False,
                                   workers=where, allow_other_workers=False)
                     for target, where, offset in zip(targets, holders, self.offsets)]
            try:
                self._wait(parts, "searched", raise_worker_errors=True)
            except LostShardError:
                client.cancel(parts)
                if attempt:
                    raise
                continue
            return client.gather(parts)

    def __reduce__(self):
        raise TypeError(
            "A gallery held as dask shards stays on the cluster and cannot be pickled or "
            "saved: call retriever.gather_gallery() first."
        )

    @property
    def vectors(self):
        """The whole gallery as one in-memory array, gathered from the shards.

        Lost shards are recomputed first where the cluster can; what it
        cannot give back is a :class:`~skgcrdp.exceptions.LostShardError`.
        """
        client = dask_client()
        if client is None:
            return np.asarray(self.shards.compute())
        self._holders(client)
        try:
            parts = client.gather(self._blocks)
        except CancelledError as exc:
            raise LostShardError(
                "The sharded gallery could not be gathered: the cluster dropped a shard while it "
                "was read (a worker holding it was lost). Check the cluster, then call "
                "fit_gallery again."
            ) from exc
        return np.concatenate(parts)


def _shard_top_k(block, queries, k, similarity, offset):
    scores, indices = exact_top_k(queries, block, min(k, block.shape[0]), similarity)
    return scores, indices + offset


def _shard_index_top_k(index, queries, k, offset):
    scores, indices = search_ivf(index, queries, min(k, index.ntotal))
    return scores, indices + offset
