"""The retrieve step: CrossModalRetriever's search, prediction, score and gallery handling."""

import numpy as np
import pytest

from skgcrdp import CrossModalRetriever


def test_predict_returns_class_of_nearest_other_modality(rng):
    Z = rng.randn(40, 8)
    y = np.repeat(np.arange(4), 10)
    retriever = CrossModalRetriever().fit(Z, y)
    _, nearest = retriever.kneighbors(Z, n_neighbors=1)
    np.testing.assert_array_equal(retriever.predict(Z), y[nearest[:, 0]])


def test_kneighbors_matches_brute_force(rng):
    Z = rng.randn(50, 8)
    retriever = CrossModalRetriever(block_size=7).fit(Z)
    distances, indices = retriever.kneighbors(Z, n_neighbors=4, query_modality="text")
    image = Z[:, :4] / np.linalg.norm(Z[:, :4], axis=1, keepdims=True)
    text = Z[:, 4:] / np.linalg.norm(Z[:, 4:], axis=1, keepdims=True)
    cosine = text @ image.T
    expected = np.argsort(-cosine, axis=1, kind="stable")[:, :4]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(distances, 1 - np.take_along_axis(cosine, expected, 1), atol=1e-12)


@pytest.mark.parametrize("k", [0, -2, 51])
def test_bad_neighbour_counts(k, rng):
    retriever = CrossModalRetriever().fit(rng.randn(50, 8))
    with pytest.raises(ValueError, match="n_neighbors"):
        retriever.kneighbors(rng.randn(3, 4), n_neighbors=k)


def test_retriever_rejects_odd_width(rng):
    with pytest.raises(ValueError, match="odd number"):
        CrossModalRetriever().fit(rng.randn(10, 5))


def test_galleries_are_the_searchable_rows_of_the_indexes(rng):
    Z = rng.randn(30, 8) * 5
    retriever = CrossModalRetriever().fit(Z)
    galleries = retriever.galleries_
    np.testing.assert_allclose(np.linalg.norm(galleries["text"], axis=1), 1.0)
    np.testing.assert_array_equal(galleries["image"], retriever.indexes_["image"].vectors)


def test_a_gallery_of_one_modality_is_searched_without_pairs(rng):
    G = rng.randn(25, 4)
    labels = np.arange(25) % 5
    retriever = CrossModalRetriever(n_neighbors=2).fit_gallery(G, labels, modality="text")
    assert retriever.indexes_["image"] is None
    indices = retriever.kneighbors(G[:3], query_modality="image", return_distance=False)
    np.testing.assert_array_equal(indices[:, 0], [0, 1, 2])
    with pytest.raises(ValueError, match="No text gallery|No image gallery"):
        retriever.kneighbors(G[:3], query_modality="text")


def _restored(retriever, **changes):
    """The retriever rebuilt from its pickled state with ``changes`` made to that state."""
    import pickle

    state = pickle.loads(pickle.dumps(retriever)).__getstate__() | changes
    copy = CrossModalRetriever.__new__(CrossModalRetriever)
    copy.__setstate__(state)
    return copy


@pytest.mark.parametrize("change, words", [
    (lambda r: {"n_neighbors": 0}, "n_neighbors"),
    (lambda r: {"similarity": "dot"}, r"indexes_\['image'\].similarity='cosine', but similarity='dot'"),
    (lambda r: {"n_image_features_": 5}, "rows 4 wide, but n_image_features_=5|n_features_in_"),
    (lambda r: {"n_features_in_": 9}, "n_features_in_=9, not twice"),
    (lambda r: {"gallery_labels_": {"image": np.zeros((30, 2)), "text": None}},
     r"gallery_labels_\['image'\] that is not a 1-D array"),
    (lambda r: {"gallery_labels_": {"image": np.arange(29), "text": None}},
     r"gallery_labels_\['image'\] of 29 labels for a gallery of 30 items"),
    (lambda r: {"gallery_labels_": {"image": np.full(30, np.nan), "text": None}}, "NaN"),
    (lambda r: {"indexes_": {"image": None, "text": None}}, "no gallery"),
    (lambda r: {"indexes_": {"image": "rows", "text": None}}, "not a search index"),
    (lambda r: {"indexes_": [r.indexes_["image"]]}, "does not map"),
    (lambda r: {"galleries_": {}}, "attributes its class never sets: galleries_"),
    (lambda r: {"metric": "cosine"}, "attributes its class never sets: metric"),
])
def test_a_restored_state_that_fit_could_not_leave_is_refused(change, words, rng):
    retriever = CrossModalRetriever().fit(rng.randn(30, 8), np.arange(30) % 3)
    with pytest.raises(ValueError, match=words):
        _restored(retriever, **change(retriever))
    queries = rng.randn(5, 8)
    np.testing.assert_array_equal(_restored(retriever).predict(queries), retriever.predict(queries))


def test_a_restored_state_without_its_gallery_is_refused(rng):
    import pickle

    state = CrossModalRetriever().fit(rng.randn(30, 8), np.arange(30) % 3).__getstate__()
    del state["indexes_"]   # fitted attributes without a gallery would pass check_is_fitted
    copy = CrossModalRetriever.__new__(CrossModalRetriever)
    with pytest.raises(ValueError, match="indexes_"):
        copy.__setstate__(state)
    unfitted = pickle.loads(pickle.dumps(CrossModalRetriever(n_neighbors=3)))
    assert unfitted.n_neighbors == 3 and not hasattr(unfitted, "indexes_")


def test_fit_gallery_refuses_nan_labels(rng):
    with pytest.raises(ValueError, match="y contains NaN"):
        CrossModalRetriever().fit_gallery(rng.randn(3, 4), [0.0, np.nan, 1.0], modality="text")
