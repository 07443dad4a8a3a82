import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skgcrdp import (
    CrossModalRetriever,
    GMMFeatureExtractor,
    RelativeDistanceAligner,
    embed_modality,
    make_gcrdp_pipeline,
)
from skgcrdp.metrics import map_scorer
from skgcrdp.model_selection import ClassDisjointSplit

from .conftest import FAST

FAST_PIPE = {f"extract__{k}": v for k, v in FAST.items()} | {
    "align__max_epochs": 2,
    "align__batch_size": 64,
}


@pytest.fixture(scope="module")
def fitted(synthetic):
    # On the CPU, so that a refit of a clone repeats it bit for bit (GPU
    # kernels may sum in another order; scripts/device_check.py checks
    # GPU training).
    X, y, n_image = synthetic
    return make_gcrdp_pipeline(n_image, random_state=0, device="cpu", **FAST_PIPE).fit(X, y)


def test_pipeline_is_plain_sklearn():
    pipe = make_gcrdp_pipeline(128)
    assert isinstance(pipe, Pipeline)
    assert [name for name, _ in pipe.steps] == ["extract", "align", "retrieve"]
    assert pipe.get_params()["extract__n_image_features"] == 128


def test_one_modality_embedding_equals_paired_half(fitted, synthetic):
    X, _, n_image = synthetic
    paired = fitted[:-1].transform(X)
    d = paired.shape[1] // 2
    np.testing.assert_allclose(embed_modality(fitted, X[:, :n_image], "image"), paired[:, :d], atol=1e-6)
    np.testing.assert_allclose(embed_modality(fitted, X[:, n_image:], "text"), paired[:, d:], atol=1e-6)


def test_gallery_embedded_once_is_searched_later(fitted, synthetic, tmp_path):
    X, y, n_image = synthetic
    gallery = embed_modality(fitted, X[:, n_image:], "text")
    joblib.dump(gallery, tmp_path / "gallery.joblib")
    retriever = CrossModalRetriever(n_neighbors=5).fit_gallery(
        joblib.load(tmp_path / "gallery.joblib"), y, modality="text"
    )
    queries = embed_modality(fitted, X[:10, :n_image], "image")
    _, indices = retriever.kneighbors(queries)
    _, expected = fitted[-1].kneighbors(fitted[:-1].transform(X[:10]), n_neighbors=5)
    np.testing.assert_array_equal(indices, expected)


def test_embed_modality_refuses_steps_that_need_pairs(synthetic):
    X, y, n_image = synthetic
    pipe = make_pipeline(StandardScaler(), GMMFeatureExtractor(n_image, **FAST)).fit(X, y)
    with pytest.raises(TypeError, match="paired data only"):
        embed_modality(pipe, X[:, :n_image], "image")


@pytest.mark.parametrize("round_trip", ["clone", "pickle", "joblib"])
def test_round_trips_give_identical_results(round_trip, fitted, synthetic, tmp_path):
    X, y, n_image = synthetic
    if round_trip == "clone":
        other = clone(fitted).fit(X, y)
    elif round_trip == "pickle":
        other = pickle.loads(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, tmp_path / "model.joblib")
        other = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(other[:-1].transform(X), fitted[:-1].transform(X))
    assert other.score(X, y) == fitted.score(X, y)


def test_same_seed_identical_and_other_seed_different(synthetic):
    X, y, n_image = synthetic
    a = GMMFeatureExtractor(n_image, random_state=3, **FAST).fit_transform(X, y)
    b = GMMFeatureExtractor(n_image, random_state=3, **FAST).fit_transform(X, y)
    c = GMMFeatureExtractor(n_image, random_state=4, **FAST).fit_transform(X, y)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_leaves_global_torch_random_state_alone(synthetic):
    import torch

    X, y, n_image = synthetic
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    GMMFeatureExtractor(n_image, random_state=0, **FAST).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_extractor_output_layout_and_prototypes(fitted, synthetic):
    X, y, _ = synthetic
    extractor = fitted.named_steps["extract"]
    Z = extractor.transform(X)
    d = FAST["embedding_dim"]
    assert Z.shape == (len(X), 2 * d) and Z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(Z[:, :d], axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(Z[:, d:], axis=1), 1, atol=1e-5)
    assert set(extractor.prototype_labels_) == set(np.unique(y))
    assert extractor.image_prototypes_.shape == (len(extractor.prototype_labels_), d)
    assert list(extractor.get_feature_names_out()[[0, d]]) == ["img__z0", "txt__z0"]


def test_set_output_pandas_carries_the_split(synthetic):
    X, y, n_image = synthetic
    extractor = GMMFeatureExtractor(n_image, random_state=0, **FAST).set_output(transform="pandas")
    frame = extractor.fit_transform(X, y)
    aligner = RelativeDistanceAligner(random_state=0, max_epochs=1).fit(frame, y)
    assert aligner.n_image_features_ == FAST["embedding_dim"]


def test_predict_returns_class_of_nearest_other_modality(fitted, synthetic):
    X, y, _ = synthetic
    Z = fitted[:-1].transform(X)
    retriever = fitted[-1]
    _, nearest = retriever.kneighbors(Z, n_neighbors=1)
    np.testing.assert_array_equal(fitted.predict(X), y[nearest[:, 0]])


def test_grid_search_without_scoring_and_cross_val_score(wikipedia):
    X, y = wikipedia
    keep = np.random.RandomState(0).choice(len(X), 600, replace=False)
    X, y = X[keep], y[keep]
    cv = ClassDisjointSplit(n_splits=2, random_state=0)
    pipe = make_gcrdp_pipeline(128, random_state=0, device="cpu", **FAST_PIPE)
    search = GridSearchCV(pipe, {"extract__temperature": [0.1, 0.5]}, cv=cv, n_jobs=2).fit(X, y)
    assert search.best_params_["extract__temperature"] in (0.1, 0.5)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert 0 < search.score(X, y) <= 1
    scores = cross_val_score(pipe, X, y, cv=cv, scoring=map_scorer)
    default = cross_val_score(pipe, X, y, cv=cv)
    np.testing.assert_allclose(scores, default)


def test_nested_pipelines_embed_one_modality(fitted, synthetic):
    X, y, n_image = synthetic
    nested = Pipeline([("embed", fitted[:-1]), ("retrieve", fitted[-1])])
    np.testing.assert_array_equal(
        embed_modality(nested, X[:, :n_image], "image"), embed_modality(fitted, X[:, :n_image], "image")
    )
    assert nested.score(X, y) == fitted.score(X, y)


def test_step_without_one_modality_is_named_inside_nested_pipeline(synthetic):
    X, y, n_image = synthetic
    inner = make_pipeline(StandardScaler(), GMMFeatureExtractor(n_image, **FAST))
    outer = Pipeline([("prep", inner)]).fit(X, y)
    with pytest.raises(TypeError, match="'prep__standardscaler'"):
        embed_modality(outer, X[:, :n_image], "image")
