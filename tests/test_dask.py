"""Dask: searches, embedding and sharded gallery search on a real local cluster (2 processes)."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

da = pytest.importorskip("dask.array", reason='needs pip install -e ".[dask]"')
distributed = pytest.importorskip("distributed", reason='needs pip install -e ".[dask]"')

from joblib import parallel_backend  # noqa: E402

from skgcrdp import CrossModalRetriever, embed_modality, make_gcrdp_pipeline  # noqa: E402
from skgcrdp.baselines import CrossDecompositionEmbedder  # noqa: E402
from skgcrdp.model_selection import ClassDisjointSplit  # noqa: E402

from .conftest import FAST  # noqa: E402

PIPE = {f"extract__{k}": v for k, v in FAST.items()} | {"align__max_epochs": 2}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, worker_dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def fitted(synthetic):
    X, y, n_image = synthetic
    return make_gcrdp_pipeline(n_image, random_state=0, device="cpu", **PIPE).fit(X, y)


def test_grid_search_on_the_cluster_equals_one_process(client, synthetic):
    X, y, n_image = synthetic
    grid = {"extract__temperature": [0.2, 0.5], "extract__instance_weight": [0.0, 0.7]}
    cv = ClassDisjointSplit(2, test_size=2, random_state=0)
    pipe = make_gcrdp_pipeline(n_image, random_state=0, device="cpu", **PIPE)
    alone = GridSearchCV(pipe, grid, cv=cv, n_jobs=1).fit(X, y).cv_results_
    with parallel_backend("dask"):
        spread = GridSearchCV(pipe, grid, cv=cv, n_jobs=-1).fit(X, y).cv_results_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(spread[key], alone[key])


def test_torch_uses_the_workers_threads_during_a_fit_and_no_more(client):
    def threads_seen():
        import torch

        from skgcrdp._training import worker_torch_threads

        before = torch.get_num_threads()
        with worker_torch_threads():
            inside = torch.get_num_threads()
        return before, inside, torch.get_num_threads()

    before, inside, after = client.submit(threads_seen, pure=False).result()
    assert inside == 1 and after == before


def test_embedding_a_dask_array_stays_lazy_and_matches_memory(client, fitted, synthetic):
    X, _, n_image = synthetic
    chunked = da.from_array(X, chunks=(64, -1))
    texts = embed_modality(fitted, chunked[:, n_image:], "text")
    paired = fitted[:-1].transform(chunked)
    assert isinstance(texts, da.Array) and texts.chunks[0] == chunked.chunks[0]
    # Batches of other sizes can round the last float32 bit differently.
    np.testing.assert_allclose(texts.compute(), embed_modality(fitted, X[:, n_image:], "text"),
                               atol=1e-6)
    np.testing.assert_allclose(paired.compute(), fitted[:-1].transform(X), atol=1e-6)


def test_the_estimator_enters_the_graph_once_whatever_the_chunks(fitted, synthetic):
    # One task holds the pipeline and every chunk's task refers to it, so a
    # worker receives it once, not once per chunk.
    X, _, n_image = synthetic
    for rows in (100, 25):
        texts = embed_modality(fitted, da.from_array(X[:, n_image:], chunks=(rows, -1)), "text")
        graph = dict(texts.__dask_graph__())
        holding = [key for key, task in graph.items() if getattr(task, "value", task) is fitted]
        assert len(holding) == 1, (rows, holding)
        assert not any(fitted is arg for task in graph.values()
                       for arg in getattr(task, "args", ()))


def test_baselines_take_dask_arrays_too(client, synthetic):
    X, y, n_image = synthetic
    pls = CrossDecompositionEmbedder(n_image).fit(X, y)
    np.testing.assert_allclose(pls.transform(da.from_array(X, chunks=(50, -1))).compute(),
                               pls.transform(X), rtol=1e-10, atol=1e-12)


def _gallery_and_queries():
    rng = np.random.default_rng(0)
    gallery = rng.normal(size=(6000, 16)).astype(np.float32)
    gallery[5000] = gallery[10]          # a tie across shards: the lower index must win
    queries = np.vstack([gallery[10], rng.normal(size=(40, 16)).astype(np.float32)])
    return gallery, queries, np.arange(6000) % 7


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_sharded_search_equals_the_in_memory_search(client, metric):
    gallery, queries, labels = _gallery_and_queries()
    memory = CrossModalRetriever(n_neighbors=9, similarity=metric)
    memory.fit_gallery(gallery, labels, modality="text")
    sharded = CrossModalRetriever(n_neighbors=9, similarity=metric)
    sharded.fit_gallery(da.from_array(gallery, chunks=(1700, -1)), labels, modality="text")
    got, expected = sharded.kneighbors(queries), memory.kneighbors(queries)
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-6, atol=1e-6)
    assert got[1][0, 0] == 10 and 5000 in got[1][0]
    paired = np.hstack([queries, queries])
    np.testing.assert_array_equal(sharded.predict(paired), memory.predict(paired))


def test_a_sharded_gallery_is_gathered_before_it_is_saved(client, tmp_path):
    gallery, queries, labels = _gallery_and_queries()
    sharded = CrossModalRetriever(n_neighbors=5)
    sharded.fit_gallery(da.from_array(gallery, chunks=(2500, -1)), labels, modality="text")
    with pytest.raises(TypeError, match="gather_gallery"):
        pickle.dumps(sharded)
    before = sharded.kneighbors(queries)
    restored = pickle.loads(pickle.dumps(sharded.gather_gallery()))
    np.testing.assert_array_equal(restored.kneighbors(queries)[1], before[1])


def test_faiss_shards_visiting_every_list_equal_the_exact_search(client):
    pytest.importorskip("faiss")
    gallery, queries, labels = _gallery_and_queries()
    exact = CrossModalRetriever(n_neighbors=9).fit_gallery(gallery, labels, modality="text")
    # nprobe = nlist: each shard's index visits all its lists, so it is exact.
    sharded = CrossModalRetriever(n_neighbors=9, algorithm="faiss",
                                  index_params={"nlist": 8, "nprobe": 8})
    sharded.fit_gallery(da.from_array(gallery, chunks=(1700, -1)), labels, modality="text")
    got, expected = sharded.kneighbors(queries), exact.kneighbors(queries)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-5)
    assert (got[1] == expected[1]).mean() > 0.99        # float ties may swap neighbours
    assert got[1][0, 0] == 10 and 5000 in got[1][0]


def test_bad_index_params_for_shards_fail_at_fit_with_the_workers_message(client):
    pytest.importorskip("faiss")
    gallery, _, _ = _gallery_and_queries()
    retriever = CrossModalRetriever(algorithm="faiss", index_params={"nlists": 8})
    with pytest.raises(ValueError, match="Unknown index_params"):
        retriever.fit_gallery(da.from_array(gallery, chunks=(3000, -1)), modality="text")


def test_faiss_shards_find_most_true_neighbours(client):
    pytest.importorskip("faiss")
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(30, 16))
    gallery = (centres[rng.integers(0, 30, 8000)] + rng.normal(size=(8000, 16)))
    gallery = gallery.astype(np.float32)
    queries = gallery[:200] + np.float32(0.05)
    exact = CrossModalRetriever(n_neighbors=10).fit_gallery(gallery, modality="text")
    sharded = CrossModalRetriever(n_neighbors=10, algorithm="faiss", index_params={"nprobe": 2})
    sharded.fit_gallery(da.from_array(gallery, chunks=(2000, -1)), modality="text")
    truth, found = exact.kneighbors(queries)[1], sharded.kneighbors(queries)[1]
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
    assert 0.8 < recall < 1.0, recall      # approximate, yet close
    # Each shard's index stays on the one worker that built it: never copied.
    indexes = sharded.galleries_["text"]._indexes
    assert all(len(holders) == 1 for holders in client.who_has(indexes).values())
    with pytest.raises(TypeError, match="gather_gallery"):
        pickle.dumps(sharded)
    restored = pickle.loads(pickle.dumps(sharded.gather_gallery()))
    assert restored.indexes_["text"] is not None    # one in-memory index replaces the shards'


def test_a_union_with_relative_profiles_embeds_a_dask_array_like_numpy():
    from skgcrdp.baselines import CrossDecompositionEmbedder
    from skgcrdp.datasets import make_multimodal_classification
    from skgcrdp.profiles import RelativeProfileEmbedder
    from skgcrdp.union import SharedSpaceUnion
    from skgcrdp.utils import is_dask_array

    X, y = make_multimodal_classification(n_classes=4, random_state=0)
    union = SharedSpaceUnion([("pls", CrossDecompositionEmbedder(20)),
                              ("profiles", RelativeProfileEmbedder(20, temperature=0.2))]).fit(X, y)
    lazy = union.transform(da.from_array(X, chunks=(60, X.shape[1])))
    assert is_dask_array(lazy)
    np.testing.assert_allclose(lazy.compute(), union.transform(X))


# -- a lost worker --------------------------------------------------------------------


@pytest.fixture
def fragile_cluster():
    """Its own two workers, so that losing one disturbs no other test."""
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, worker_dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        yield client


def _lose_a_worker(client, how, holding):
    """Kill (the nanny starts a new one) or restart the worker holding ``holding``."""
    import os
    import signal
    import time

    victim = sorted(client.who_has([holding])[holding.key])[0]
    if how == "kill":
        os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
    else:
        client.restart_workers([victim])
    deadline = time.monotonic() + 60
    while victim in client.ncores() or len(client.ncores()) < 2:
        assert time.monotonic() < deadline, "the cluster did not replace the lost worker"
        time.sleep(0.2)
    return victim


def _within(seconds, call):
    """``call()``, which must return within ``seconds``: a hang fails the test instead of CI."""
    import threading

    box = {}

    def run():
        try:
            box["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["result"]


@pytest.mark.parametrize("how", ["kill", "restart"])
@pytest.mark.parametrize("algorithm", ["brute", "faiss"])
def test_a_sharded_gallery_answers_after_a_worker_is_lost(fragile_cluster, how, algorithm):
    if algorithm == "faiss":
        pytest.importorskip("faiss")
    gallery, queries, labels = _gallery_and_queries()
    params = {"index_params": {"nlist": 8, "nprobe": 8}} if algorithm == "faiss" else {}
    sharded = CrossModalRetriever(n_neighbors=9, algorithm=algorithm, **params)
    sharded.fit_gallery(da.from_array(gallery, chunks=(1700, -1)), labels, modality="text")
    before = sharded.kneighbors(queries)
    index = sharded.indexes_["text"]
    lost = _lose_a_worker(fragile_cluster, how, index._blocks[0])
    after = _within(60, lambda: sharded.kneighbors(queries))
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_allclose(after[0], before[0], rtol=1e-6, atol=1e-6)
    paired = np.hstack([queries, queries])
    assert (_within(60, lambda: sharded.predict(paired)) == labels[before[1][:, 0]]).all()
    where = fragile_cluster.who_has(index._blocks + (index._indexes or []))
    assert all(lost not in holders for holders in where.values())


def test_a_shard_that_cannot_be_rebuilt_is_named_within_the_timeout(fragile_cluster):
    from skgcrdp._search import ShardedIndex
    from skgcrdp.exceptions import LostShardError

    gallery, queries, _ = _gallery_and_queries()
    # Rows that only one worker ever held (scattered, not computed from a graph).
    held = fragile_cluster.scatter(gallery[:3000], workers=[sorted(fragile_cluster.ncores())[0]])
    lazy = da.concatenate([da.from_delayed(held, shape=(3000, 16), dtype=np.float32),
                           da.from_array(gallery[3000:], chunks=(3000, -1))])
    index = ShardedIndex(lazy, "cosine", timeout=5)
    _lose_a_worker(fragile_cluster, "kill", index._blocks[0])
    del held
    with pytest.raises(LostShardError, match="shard 0 \\(rows 0-2999\\)"):
        _within(60, lambda: index.search(queries, 5))


# -- concurrent searches, bad galleries, a cluster that restarts --------------------------


def test_concurrent_sharded_searches_answer_as_sequential_ones(client):
    # kneighbors alone (predict and score add no shared state of the shards'):
    # every search is a round of tasks on the cluster, the test's cost.
    from concurrent.futures import ThreadPoolExecutor

    gallery, _, labels = _gallery_and_queries()
    rng = np.random.default_rng(1)
    batches = [rng.normal(size=(4, 16)).astype(np.float32) for _ in range(64)]
    sharded = CrossModalRetriever(n_neighbors=30)
    sharded.fit_gallery(da.from_array(gallery, chunks=(3000, -1)), labels, modality="text")
    sequential = [sharded.kneighbors(batch) for batch in batches]

    def run(seed):
        order = np.random.default_rng(seed).permutation(len(batches))
        return {i: sharded.kneighbors(batches[i]) for i in order}

    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(run, range(8)))
    for answers in threaded:
        for i, got in answers.items():
            for a, b in zip(got, sequential[i]):
                np.testing.assert_array_equal(a, b)
    for batch, expected in zip(batches, sequential):
        np.testing.assert_array_equal(sharded.kneighbors(batch)[1], expected[1])


@pytest.mark.parametrize("on_cluster", [True, False])
def test_nan_rows_of_a_dask_gallery_are_refused_at_fit_gallery(request, on_cluster):
    if on_cluster:
        request.getfixturevalue("client")
    else:
        from skgcrdp.utils import dask_client

        if dask_client() is not None:
            pytest.skip("a distributed client is in use")
    gallery, _, _ = _gallery_and_queries()
    broken = gallery.copy()
    broken[[4100, 4105, 4107, 4200]] = np.nan           # all in one shard: rows 4000-4999
    with pytest.raises(ValueError, match=r"Z holds NaN or infinite values in row\(s\) "
                                         r"4100, 4105, 4107 and 1 more; a gallery needs finite"):
        CrossModalRetriever().fit_gallery(da.from_array(broken, chunks=(1000, -1)), modality="text")
    broken = gallery.copy()
    broken[5999, 3] = np.inf
    with pytest.raises(ValueError, match=r"row\(s\) 5999;"):
        CrossModalRetriever(similarity="dot").fit_gallery(da.from_array(broken, chunks=(1000, -1)),
                                                          modality="text")


def test_bad_faiss_params_of_a_dask_gallery_are_refused_before_the_workers(monkeypatch):
    pytest.importorskip("faiss")
    gallery, _, _ = _gallery_and_queries()
    lazy = da.from_array(gallery, chunks=(3000, -1))
    monkeypatch.setattr(type(lazy), "persist", lambda *a, **k: pytest.fail("shards were stored"))
    with pytest.raises(ValueError, match=r"index_params\['nprobe'\] must be an int >= 1, got 0"):
        CrossModalRetriever(algorithm="faiss", index_params={"nprobe": 0}).fit_gallery(
            lazy, modality="text")


def test_a_gallery_the_cluster_dropped_is_a_lost_shard_error_that_says_so(client):
    # What a restart of every worker does to the shards' futures: the cluster
    # cancels them, and nothing can recompute them.
    import time

    from skgcrdp.exceptions import LostShardError

    gallery, queries, labels = _gallery_and_queries()
    sharded = CrossModalRetriever(n_neighbors=5)
    sharded.fit_gallery(da.from_array(gallery, chunks=(3000, -1)), labels, modality="text")
    client.cancel(sharded.indexes_["text"]._blocks)
    for call in (sharded.gather_gallery, lambda: sharded.kneighbors(queries)):
        start = time.monotonic()
        with pytest.raises(LostShardError, match=r"shard 0 \(rows 0-2999\), shard 1 \(rows "
                                                 r"3000-5999\) .* the cluster dropped it") as raised:
            _within(60, call)
        assert "within 120 s" not in str(raised.value)
        assert time.monotonic() - start < 30     # a cancelled shard is not waited for
