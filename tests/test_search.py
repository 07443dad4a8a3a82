import pickle
import sys

import joblib
import numpy as np
import pytest

from skgcrdp import CrossModalRetriever
from skgcrdp._search import exact_top_k


def _reference(Q, G, k, metric="dot"):
    S = Q @ G.T if metric == "dot" else -((Q[:, None, :] - G[None, :, :]) ** 2).sum(-1)
    order = np.lexsort((np.broadcast_to(np.arange(G.shape[0]), S.shape), -S), axis=1)[:, :k]
    return np.take_along_axis(S, order, axis=1), order


@pytest.mark.parametrize("tile", [1, 7, 64, 10_000])
@pytest.mark.parametrize("k", [1, 5, 300])
def test_tiled_top_k_equals_a_stable_full_sort_ties_included(tile, k):
    # Small integers: every product is exact whatever the tile shape, so
    # ties are true ties and their order is the index order.
    rng = np.random.default_rng(tile + k)
    Q = rng.integers(-3, 4, (40, 3)).astype(np.float64)
    G = rng.integers(-3, 4, (300, 3)).astype(np.float64)
    scores, indices = exact_top_k(Q, G, k, gallery_tile=tile)
    expected_scores, expected_indices = _reference(Q, G, k)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(scores, expected_scores)


def test_tiled_top_k_euclidean_and_float32():
    rng = np.random.default_rng(0)
    Q = rng.standard_normal((25, 6)).astype(np.float32)
    G = rng.standard_normal((500, 6)).astype(np.float32)
    scores, indices = exact_top_k(Q, G, 8, similarity="euclidean", gallery_tile=32)
    _, expected = _reference(Q.astype(np.float64), G.astype(np.float64), 8, "euclidean")
    np.testing.assert_array_equal(indices, expected)
    assert scores.dtype == np.float32


def test_query_blocks_do_not_change_the_answer():
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((200, 8))
    a = CrossModalRetriever(n_neighbors=7).fit(Z).kneighbors(Z)
    b = CrossModalRetriever(n_neighbors=7, block_size=3).fit(Z).kneighbors(Z)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0])


def _clustered(rng, n=3000, d=16, centres=30):
    means = rng.standard_normal((centres, d)) * 3
    labels = rng.integers(0, centres, n)
    return (means[labels] + rng.standard_normal((n, d))).astype(np.float32)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_faiss_index_finds_most_exact_neighbours(metric):
    pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    Z = np.hstack([_clustered(rng), _clustered(rng)])
    exact = CrossModalRetriever(similarity=metric).fit(Z).kneighbors(Z[:300], n_neighbors=10)
    approx = CrossModalRetriever(similarity=metric, algorithm="faiss").fit(Z)
    distances, indices = approx.kneighbors(Z[:300], n_neighbors=10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(indices, exact[1])])
    assert recall > 0.9
    assert (np.diff(distances, axis=1) >= -1e-5).all()
    assert (indices >= 0).all()


def test_faiss_index_survives_pickle_and_joblib(tmp_path):
    pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    Z = np.hstack([_clustered(rng, n=500), _clustered(rng, n=500)])
    retriever = CrossModalRetriever(algorithm="faiss", index_params={"nlist": 8, "nprobe": 2}).fit(Z)
    expected = retriever.kneighbors(Z[:20])
    joblib.dump(retriever, tmp_path / "r.joblib")
    for loaded in (pickle.loads(pickle.dumps(retriever)), joblib.load(tmp_path / "r.joblib")):
        got = loaded.kneighbors(Z[:20])
        np.testing.assert_array_equal(got[1], expected[1])
        assert loaded.indexes_["text"].index.nprobe == 2


def test_faiss_small_probe_still_returns_k_neighbours():
    pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    Z = np.hstack([_clustered(rng, n=400), _clustered(rng, n=400)])
    retriever = CrossModalRetriever(algorithm="faiss", index_params={"nlist": 10, "nprobe": 1}).fit(Z)
    _, indices = retriever.kneighbors(Z[:50], n_neighbors=100)
    assert (indices >= 0).all()


def test_faiss_bad_params_and_missing_package(monkeypatch):
    Z = np.random.default_rng(0).standard_normal((100, 8))
    if "faiss" in sys.modules or pytest.importorskip("faiss"):
        with pytest.raises(ValueError, match="index_params"):
            CrossModalRetriever(algorithm="faiss", index_params={"M": 4}).fit(Z)
        with pytest.raises(ValueError, match="nlist"):
            CrossModalRetriever(algorithm="faiss", index_params={"nlist": 1000}).fit(Z)
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(ImportError, match="faiss-cpu"):
        CrossModalRetriever(algorithm="faiss").fit(Z)


def test_in_memory_indexes_pickle_as_their_rows_and_answer_alike(rng):
    import pickle

    from skgcrdp._search import ExactIndex, FaissIndex, build_index

    G, Q = rng.normal(size=(400, 8)), rng.normal(size=(5, 8))
    exact = build_index(G, "cosine")
    assert isinstance(exact, ExactIndex) and len(exact) == 400
    kinds = [exact]
    try:
        import faiss  # noqa: F401
    except ImportError:
        pass
    else:
        approx = build_index(G, "cosine", algorithm="faiss", index_params={"nlist": 4})
        assert isinstance(approx, FaissIndex)
        assert set(approx.__getstate__()) == {"vectors", "similarity", "index_params"}
        kinds.append(approx)
    for index in kinds:
        copy = pickle.loads(pickle.dumps(index))
        for got, expected in zip(copy.search(Q, 7), index.search(Q, 7)):
            np.testing.assert_array_equal(got, expected)


# -- concurrent searches ------------------------------------------------------------


def _in_threads(retriever, batches, n_threads=8):
    """Every thread runs kneighbors, predict and score on every batch, in its own order."""
    from concurrent.futures import ThreadPoolExecutor

    def run(seed):
        order = np.random.default_rng(seed).permutation(len(batches))
        return {i: _answers(retriever, batches[i]) for i in order}

    with ThreadPoolExecutor(n_threads) as pool:
        return list(pool.map(run, range(n_threads)))


def _answers(retriever, batch):
    X, y = batch
    distances, indices = retriever.kneighbors(X[:, :16], n_neighbors=40, query_modality="image")
    return distances, indices, retriever.predict(X), retriever.score(X, y)


def _assert_same(got, expected):
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def _concurrency_batches(rng, n_batches=64):
    centres = rng.normal(size=(20, 32)) * 3
    batches = []
    for _ in range(n_batches):
        y = rng.integers(0, 20, 8)
        batches.append(((centres[y] + rng.normal(size=(8, 32))).astype(np.float32), y))
    return centres, batches


@pytest.mark.parametrize("algorithm", ["brute", "faiss"])
def test_concurrent_searches_answer_as_sequential_ones(algorithm):
    # nprobe=1 over small lists: most queries find fewer than k items in
    # their list and are searched again in every list, the step that used
    # to widen the shared index for everyone.
    if algorithm == "faiss":
        pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    centres, batches = _concurrency_batches(rng)
    y = rng.integers(0, 20, 2000)
    Z = (centres[y] + rng.normal(size=(2000, 32))).astype(np.float32)
    retriever = CrossModalRetriever(algorithm=algorithm, index_params={"nlist": 50, "nprobe": 1})
    retriever.fit(Z, y)
    sequential = [_answers(retriever, batch) for batch in batches]
    for answers in _in_threads(retriever, batches):
        for i, got in answers.items():
            _assert_same(got, sequential[i])
    for batch, expected in zip(batches, sequential):      # and nothing changed for later calls
        _assert_same(_answers(retriever, batch), expected)


def test_faiss_index_params_are_refused_before_any_work(monkeypatch):
    faiss = pytest.importorskip("faiss")
    Z = np.random.default_rng(0).normal(size=(400, 8))
    monkeypatch.setattr(faiss, "IndexIVFFlat", lambda *a: pytest.fail("an index was built"))
    for params, words in [({"nprobe": 0}, r"\['nprobe'\] must be an int >= 1, got 0"),
                          ({"nlist": 0}, r"\['nlist'\] must be an int >= 1"),
                          ({"nprobe": 2.5}, "nprobe"), ({"nlist": True}, "nlist"),
                          ({"nlist": 11}, r"nlist'\]=11 is too many lists for a gallery of 400 rows: "
                                          "at most 10")]:
        with pytest.raises(ValueError, match=words):
            CrossModalRetriever(algorithm="faiss", index_params=params).fit_gallery(
                Z, modality="text")


def test_faiss_refuses_values_that_overflow_float32():
    pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(200, 8))
    retriever = CrossModalRetriever(similarity="euclidean", algorithm="faiss").fit(Z)
    with pytest.raises(ValueError, match="faiss computes in float32"):
        retriever.kneighbors(np.full((1, 4), 1e20))
    with pytest.raises(ValueError, match="faiss computes in float32"):
        CrossModalRetriever(similarity="dot", algorithm="faiss").fit(Z * 1e20)
    # Cosine rows are unit rows: any finite size is searched.
    cosine = CrossModalRetriever(algorithm="faiss").fit(Z)
    np.testing.assert_array_equal(cosine.kneighbors(Z[:3, :4] * 1e300)[1], cosine.kneighbors(Z[:3, :4])[1])


@pytest.mark.parametrize("state, words", [
    ({"block_size": -1}, r"ExactIndex.block_size must be None or an int >= 1, got -1"),
    ({"block_size": 2.0}, "block_size"),
    ({"similarity": "manhattan"}, "similarity"),
    ({"vectors": np.ones((3, 4))}, "unit rows"),
    ({"vectors": np.full((3, 4), np.nan)}, "NaN"),
    ({"vectors": np.ones(4)}, "2-D"),
    ({"vectors": np.ones((0, 4))}, "at least one row"),
    ({"extra": 1}, "attributes its class never sets: extra"),
])
def test_an_exact_index_refuses_a_state_fit_could_not_leave(state, words):
    from skgcrdp._search import ExactIndex, build_index

    index = build_index(np.random.default_rng(0).normal(size=(20, 4)), "cosine")
    with pytest.raises(ValueError, match=words):
        pickle.loads(pickle.dumps(index)).__setstate__(vars(index) | state)
    assert isinstance(pickle.loads(pickle.dumps(index)), ExactIndex)
