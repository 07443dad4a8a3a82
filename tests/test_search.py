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
