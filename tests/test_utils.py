import numpy as np
import pandas as pd
import pytest

from skgcrdp import GMMFeatureExtractor, split_modalities, stack_modalities

from .conftest import FAST


def test_stack_and_split_are_inverse(rng):
    X_image, X_text = rng.randn(5, 3), rng.randn(5, 2)
    X = stack_modalities(X_image, X_text)
    back_image, back_text = split_modalities(X, 3)
    np.testing.assert_array_equal(back_image, X_image)
    np.testing.assert_array_equal(back_text, X_text)


def test_stack_rejects_unpaired_rows(rng):
    with pytest.raises(ValueError, match="same pairs"):
        stack_modalities(rng.randn(5, 3), rng.randn(4, 2))


def test_split_from_prefixes(rng):
    X = pd.DataFrame(rng.randn(4, 3), columns=["img__a", "img__b", "txt__c"])
    X_image, X_text = split_modalities(X)
    assert X_image.shape == (4, 2) and X_text.shape == (4, 1)


@pytest.mark.parametrize(
    "columns, n_image, match",
    [
        (["img__a", "txt__b", "img__c"], None, "must all come before"),
        (["img__a", "b", "txt__c"], None, "neither"),
        (["img__a", "img__b", "txt__c"], 1, "given twice"),
        (["a", "b", "c"], None, "Cannot tell where the image features end"),
    ],
)
def test_bad_prefix_splits_are_named(columns, n_image, match, rng):
    X = pd.DataFrame(rng.randn(4, 3), columns=columns)
    with pytest.raises(ValueError, match=match):
        split_modalities(X, n_image)


@pytest.mark.parametrize("n_image", [0, 5, 9])
def test_split_outside_feature_range(n_image, rng):
    with pytest.raises(ValueError, match="outside the feature range"):
        split_modalities(rng.randn(4, 5), n_image)


def test_extractor_needs_the_split(synthetic):
    X, y, _ = synthetic
    with pytest.raises(ValueError, match="n_image_features"):
        GMMFeatureExtractor(**FAST).fit(X, y)


def test_extractor_takes_prefixed_dataframe(synthetic):
    X, y, n_image = synthetic
    columns = [f"img__{i}" for i in range(n_image)] + [
        f"txt__{i}" for i in range(X.shape[1] - n_image)
    ]
    frame = pd.DataFrame(X, columns=columns)
    from_frame = GMMFeatureExtractor(random_state=0, **FAST).fit(frame, y)
    from_array = GMMFeatureExtractor(n_image, random_state=0, **FAST).fit(X, y)
    assert from_frame.n_image_features_ == n_image
    np.testing.assert_allclose(from_frame.transform(frame), from_array.transform(X), atol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("column", [0, -1])
def test_non_finite_values_in_either_modality(bad, column, synthetic):
    X, y, n_image = synthetic
    X = X.copy()
    X[3, column] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        GMMFeatureExtractor(n_image, **FAST).fit(X, y)


def test_wrong_width_at_transform(synthetic):
    X, y, n_image = synthetic
    model = GMMFeatureExtractor(n_image, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.transform(X[:, :-1])
    with pytest.raises(ValueError, match="fitted with 15 text feature"):
        model.transform_modality(X[:, n_image:-1], "text")
    with pytest.raises(ValueError, match="modality must be"):
        model.transform_modality(X[:, :n_image], "audio")


def test_single_class_is_rejected(synthetic):
    X, _, n_image = synthetic
    with pytest.raises(ValueError, match="at least 2 classes"):
        GMMFeatureExtractor(n_image, **FAST).fit(X, np.zeros(len(X)))


def test_continuous_targets_are_rejected(synthetic):
    X, _, n_image = synthetic
    with pytest.raises(ValueError, match="Unknown label type"):
        GMMFeatureExtractor(n_image, **FAST).fit(X, np.linspace(0, 1, len(X)))
