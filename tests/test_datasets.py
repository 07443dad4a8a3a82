import numpy as np
import pandas as pd

from skgcrdp.datasets import load_wikipedia, make_multimodal_classification


def test_wikipedia_matches_the_published_description():
    data = load_wikipedia()
    assert data.data.shape == (2866, 138)
    assert data.n_image_features == 128
    assert data.is_test.sum() == 693
    # Class counts of the official split (train / test), as published.
    train = np.bincount(data.target[~data.is_test])
    test = np.bincount(data.target[data.is_test])
    np.testing.assert_array_equal(train, [138, 272, 244, 248, 202, 178, 186, 144, 214, 347])
    np.testing.assert_array_equal(test, [34, 88, 96, 85, 65, 58, 51, 41, 71, 104])
    # Both feature blocks are normalised histograms.
    np.testing.assert_allclose(data.data[:, :128].sum(1), 1, atol=1e-6)
    np.testing.assert_allclose(data.data[:, 128:].sum(1), 1, atol=1e-6)
    assert list(data.target_names[:2]) == ["art", "biology"]
    assert "Rasiwasia" in data.DESCR


def test_wikipedia_subsets_and_frames():
    X_train, y_train = load_wikipedia(subset="train", return_X_y=True)
    assert X_train.shape == (2173, 138) and y_train.shape == (2173,)
    X, y = load_wikipedia(return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.columns[0].startswith("img__") and X.columns[-1].startswith("txt__")


def test_synthetic_classes_have_several_modes():
    X, y = make_multimodal_classification(
        n_classes=2, n_pairs_per_class=300, n_modes_per_class=3, mode_sep=4.0, random_state=0
    )
    assert X.shape == (600, 35)
    from sklearn.mixture import GaussianMixture

    text = X[y == 0, 20:]
    bic = [GaussianMixture(k, random_state=0).fit(text).bic(text) for k in (1, 3)]
    assert bic[1] < bic[0]
