"""Bad input: each case gets a clear error that names the problem, or a correct result."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from skgcrdp import (
    CrossModalRetriever,
    GMMFeatureExtractor,
    RelativeDistanceAligner,
    embed_modality,
    make_gcrdp_pipeline,
)
from skgcrdp.baselines import CrossDecompositionEmbedder
from skgcrdp.metrics import cross_modal_retrieval_score

from .conftest import FAST

N_IMAGE = 20


def extractor(**params):
    # On the CPU, where refits repeat bit for bit: several cases below
    # compare two fits exactly.
    return GMMFeatureExtractor(N_IMAGE, random_state=0, device="cpu", **{**FAST, **params})


def aligner():
    return RelativeDistanceAligner(max_epochs=2, hidden_dim=8, random_state=0)


@pytest.fixture(scope="module")
def data():
    from skgcrdp.datasets import make_multimodal_classification

    X, y = make_multimodal_classification(n_classes=4, n_pairs_per_class=20, random_state=0)
    Z = extractor().fit_transform(X, y)
    return X, y, Z


def with_value(X, row, column, value):
    X = X.astype(np.float64).copy()
    X[row, column] = value
    return X


# Errors: (case, call(X, y, Z), exception, words the message must hold)
ERRORS = [
    ("NaN in the image half", lambda X, y, Z: extractor().fit(with_value(X, 0, 0, np.nan), y),
     ValueError, "NaN"),
    ("NaN in the text half", lambda X, y, Z: extractor().fit(with_value(X, 3, 30, np.nan), y),
     ValueError, "NaN"),
    ("inf in the image half", lambda X, y, Z: extractor().fit(with_value(X, 0, 1, np.inf), y),
     ValueError, "infinity"),
    ("inf in the text half", lambda X, y, Z: extractor().fit(with_value(X, 0, 25, -np.inf), y),
     ValueError, "infinity"),
    ("NaN at transform", lambda X, y, Z: extractor().fit(X, y).transform(with_value(X, 0, 0, np.nan)),
     ValueError, "NaN"),
    ("NaN in the aligner's input", lambda X, y, Z: aligner().fit(with_value(Z, 0, 0, np.nan), y),
     ValueError, "NaN"),
    ("NaN queries", lambda X, y, Z: CrossModalRetriever().fit(Z).kneighbors(with_value(Z, 0, 0, np.nan)),
     ValueError, "NaN"),
    ("wrong width at transform", lambda X, y, Z: extractor().fit(X, y).transform(X[:, :-1]),
     ValueError, "34 features"),
    ("wrong width at predict", lambda X, y, Z: CrossModalRetriever().fit(Z, y).predict(Z[:, :-2]),
     ValueError, "features"),
    ("wrong width of queries", lambda X, y, Z: CrossModalRetriever().fit(Z).kneighbors(Z[:, :3]),
     ValueError, "expected"),
    ("split outside the features", lambda X, y, Z: GMMFeatureExtractor(40, **FAST).fit(X, y),
     ValueError, "outside the feature range"),
    ("split at zero", lambda X, y, Z: GMMFeatureExtractor(0, **FAST).fit(X, y),
     ValueError, "n_image_features"),
    ("split given twice (int and prefixed columns that disagree)",
     lambda X, y, Z: GMMFeatureExtractor(10, **FAST).fit(
         pd.DataFrame(X, columns=[f"img__{i}" for i in range(20)] + [f"txt__{i}" for i in range(15)]), y),
     ValueError, "n_image_features"),
    ("unequal halves for the aligner", lambda X, y, Z: aligner().fit(X, y),
     ValueError, "odd number"),
    ("unequal halves for the retriever", lambda X, y, Z: CrossModalRetriever().fit(X),
     ValueError, "odd number"),
    ("a single class", lambda X, y, Z: extractor().fit(X, np.zeros(len(y))),
     ValueError, "at least 2 classes"),
    ("empty input", lambda X, y, Z: extractor().fit(X[:0], y[:0]), ValueError, "0 sample"),
    ("one sample", lambda X, y, Z: extractor().fit(X[:1], y[:1]), ValueError, "classes"),
    ("1-D input", lambda X, y, Z: extractor().fit(X[0], y[:1]), ValueError, "2D array"),
    ("labels of another length", lambda X, y, Z: extractor().fit(X, y[:-1]),
     ValueError, "inconsistent numbers of samples"),
    ("NaN labels", lambda X, y, Z: extractor().fit(X, np.where(y == 0, np.nan, y)),
     ValueError, "NaN"),
    ("sparse input (rejected: the encoders need dense arrays)",
     lambda X, y, Z: extractor().fit(sp.csr_matrix(X), y), TypeError, "dense data is required"),
    ("DataFrame without prefixes and no split",
     lambda X, y, Z: GMMFeatureExtractor(**FAST).fit(pd.DataFrame(X), y),
     ValueError, "img__"),
    ("DataFrame with interleaved prefixes",
     lambda X, y, Z: GMMFeatureExtractor(**FAST).fit(
         pd.DataFrame(X, columns=[f"{'img' if i % 2 else 'txt'}__{i}" for i in range(35)]), y),
     ValueError, "before the 'txt__' columns"),
    ("k larger than the gallery", lambda X, y, Z: CrossModalRetriever().fit(Z).kneighbors(Z, n_neighbors=81),
     ValueError, "larger than the gallery"),
    ("k = 0", lambda X, y, Z: CrossModalRetriever().fit(Z).kneighbors(Z, n_neighbors=0),
     ValueError, "positive integer"),
    ("negative k", lambda X, y, Z: CrossModalRetriever().fit(Z).kneighbors(Z, n_neighbors=-3),
     ValueError, "positive integer"),
    ("n_neighbors=0 at construction", lambda X, y, Z: CrossModalRetriever(n_neighbors=0).fit(Z),
     ValueError, "n_neighbors"),
    ("unfitted extractor", lambda X, y, Z: extractor().transform(X), NotFittedError, "not fitted"),
    ("unfitted aligner", lambda X, y, Z: aligner().transform(Z), NotFittedError, "not fitted"),
    ("unfitted retriever", lambda X, y, Z: CrossModalRetriever().kneighbors(Z), NotFittedError,
     "not fitted"),
    ("set_params with an unknown name", lambda X, y, Z: extractor().set_params(temprature=1),
     ValueError, "Invalid parameter 'temprature'"),
    ("embeddings too large even for float64",
     lambda X, y, Z: CrossModalRetriever(similarity="dot").fit(Z.astype(np.float64) * 1e200),
     ValueError, "overflow"),
    ("predict without gallery labels", lambda X, y, Z: CrossModalRetriever().fit(Z).predict(Z),
     ValueError, "without classes"),
    ("values whose squares overflow (reported as overflow, not as NaN)",
     lambda X, y, Z: extractor().fit(with_value(X, 0, 0, 1e308), y), ValueError, "overflow float64"),
    ("the same for a baseline",
     lambda X, y, Z: CrossDecompositionEmbedder(N_IMAGE).fit(with_value(X, 0, 25, -1e308), y),
     ValueError, "overflow float64"),
    ("a finite query beyond float32 (reported as such, not as NaN)",
     lambda X, y, Z: extractor().fit(X, y).transform(with_value(X, 0, 0, 1e308)),
     ValueError, "The image part of X holds values up to [0-9.]*e[+]308, beyond float32"),
    ("the same in training without standardisation",
     lambda X, y, Z: extractor(standardize=False).fit(with_value(X, 3, 25, -1e300), y),
     ValueError, "The text part of X holds values up to 1e[+]300, beyond float32"),
    ("a bare string as text queries (one row per character otherwise)",
     lambda X, y, Z: embed_modality(make_gcrdp_pipeline(N_IMAGE, random_state=0, device="cpu",
                                                        extract__max_epochs=1, align__max_epochs=1)
                                    .fit(X, y), "an open book", "text"),
     ValueError, "Iterable over text inputs expected, str object received"),
]


@pytest.mark.parametrize("case, call, error, words", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_raises_a_clear_error(case, call, error, words, data):
    with pytest.raises(error, match=words):
        call(*data)


# Accepted: (case, transform of (X, y)) -> the extractor must fit and embed finite rows.
def _float(dtype):
    return lambda X, y: (X.astype(dtype), y)


def _one_pair_of_class(X, y, label):
    keep = np.flatnonzero(y != label).tolist() + [np.flatnonzero(y == label)[0]]
    assert np.sum(y[keep] == label) == 1
    return X[keep], y[keep]


ACCEPTED = [
    ("float16 input", _float(np.float16)),
    ("float32 input", _float(np.float32)),
    ("float64 input", _float(np.float64)),
    ("integer input", lambda X, y: (np.round(X * 10).astype(np.int64), y)),
    ("Fortran-ordered input", lambda X, y: (np.asfortranarray(X), y)),
    ("non-contiguous input", lambda X, y: (np.repeat(X, 2, axis=1)[:, ::2], y)),
    ("string labels", lambda X, y: (X, np.array(["w", "x", "y", "z"])[y])),
    ("boolean labels", lambda X, y: (X, y % 2 == 0)),
    ("non-contiguous integer labels", lambda X, y: (X, y * 7 + 3)),
    ("a constant feature", lambda X, y: (with_value(X, slice(None), 3, 5.0), y)),
    ("all-zero rows", lambda X, y: (with_value(X, slice(0, 5), slice(None), 0.0), y)),
    ("very large values", lambda X, y: (X * 1e30, y)),
    ("duplicate rows", lambda X, y: (np.vstack([X, X]), np.concatenate([y, y]))),
    ("a class with one pair", lambda X, y: _one_pair_of_class(X, y, 3)),
    # Identical pairs: singular covariances, which reg_covar regularises.
    ("a class whose pairs are all identical", lambda X, y: (np.where((y == 0)[:, None], X[y == 0][0], X), y)),
    # 8 pairs in all (1 to 4 per class) for 3 components per class and modality.
    ("fewer pairs than mixture components, per class and overall",
     lambda X, y: (X[::10], y[::10])),
]


@pytest.mark.parametrize("case, make", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_input_gives_finite_embeddings(case, make, data):
    X, y = make(data[0], data[1])
    # Every class gets its mixture (one-pair classes included), so that the
    # cases above reach the mixtures' fits and not only the encoders.
    model = extractor(n_components_per_class=3, min_pairs_for_mixture=1).fit(X, y)
    assert set(model.prototype_labels_) == set(np.unique(y))
    Z = model.transform(X)
    assert Z.shape == (X.shape[0], 2 * FAST["embedding_dim"])
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    # Each embedding is unit length (zero input rows included).
    np.testing.assert_allclose(np.linalg.norm(Z[:, : Z.shape[1] // 2], axis=1), 1.0, rtol=1e-4)
    assert cross_modal_retrieval_score(Z, y) > 0


def test_integer_and_float_inputs_give_the_same_model(data):
    X, y, _ = data
    X_int = np.round(X * 10).astype(np.int64)
    a = extractor().fit(X_int, y).transform(X_int)
    b = extractor().fit(X_int.astype(np.float64), y).transform(X_int.astype(np.float64))
    np.testing.assert_array_equal(a, b)


def test_memory_layout_does_not_change_the_result(data):
    X, y, _ = data
    expected = extractor().fit(X, y).transform(X)
    for variant in (np.asfortranarray(X), np.repeat(X, 2, axis=1)[:, ::2]):
        np.testing.assert_array_equal(extractor().fit(variant, y).transform(variant), expected)


def test_label_encoding_does_not_change_the_result(data):
    X, y, _ = data
    expected = extractor().fit(X, y).transform(X)
    relabelled = np.array(["w", "x", "y", "z"])[y]
    np.testing.assert_array_equal(extractor().fit(X, relabelled).transform(X), expected)
    np.testing.assert_array_equal(extractor().fit(X, y * 7 + 3).transform(X), expected)


def test_dataframe_with_prefixes_equals_array_with_split(data):
    X, y, _ = data
    columns = [f"img__{i}" for i in range(20)] + [f"txt__{i}" for i in range(15)]
    frame = pd.DataFrame(X, columns=columns)
    from_frame = GMMFeatureExtractor(random_state=0, device="cpu", **FAST).fit(frame, y).transform(frame)
    np.testing.assert_array_equal(from_frame, extractor().fit(X, y).transform(X))


def test_shuffled_dataframe_columns_at_transform_are_refused(data):
    X, y, _ = data
    columns = [f"img__{i}" for i in range(20)] + [f"txt__{i}" for i in range(15)]
    frame = pd.DataFrame(X, columns=columns)
    model = GMMFeatureExtractor(random_state=0, **FAST).fit(frame, y)
    shuffled = frame[columns[1:20] + columns[:1] + columns[20:]]
    with pytest.raises(ValueError, match="same order"):
        model.transform(shuffled)


def test_zero_rows_score_as_ties_with_cosine(data):
    _, y, Z = data
    Z = Z.copy()
    Z[:5] = 0.0
    retriever = CrossModalRetriever(n_neighbors=3).fit(Z, y)
    distances, _ = retriever.kneighbors(Z[:5])
    np.testing.assert_allclose(distances, 1.0)  # cosine 0 to everything
    assert 0 < retriever.score(Z, y) <= 1


@pytest.mark.parametrize("metric", ["cosine", "dot", "euclidean"])
def test_huge_embeddings_rank_like_scaled_ones(metric, data):
    _, y, Z = data
    small = CrossModalRetriever(similarity=metric, n_neighbors=5).fit(Z).kneighbors(Z)[1]
    huge = CrossModalRetriever(similarity=metric, n_neighbors=5).fit(Z * 1e30).kneighbors(Z * 1e30)[1]
    np.testing.assert_array_equal(huge, small)


def test_labels_unseen_at_fit_are_fine_at_score(data):
    _, y, Z = data
    retriever = CrossModalRetriever().fit(Z, y)
    assert retriever.score(Z, y + 100) == pytest.approx(retriever.score(Z, y))


def test_one_pair_per_class_is_accepted_without_a_regression_warning(synthetic):
    # K = 1: as many classes as pairs, which scikit-learn's target check
    # would take for regression targets; in few-shot retrieval it is the norm.
    import warnings

    X, y, n_image = synthetic
    first = np.unique(y, return_index=True)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        Z = GMMFeatureExtractor(n_image, random_state=0, **FAST).fit(X[first], y[first]).transform(X)
        RelativeDistanceAligner(random_state=0, max_epochs=2).fit(Z[first], y[first])
    assert np.isfinite(Z).all()
