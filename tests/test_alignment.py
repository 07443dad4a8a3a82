"""The align step: RelativeDistanceAligner, after the extractor or any other paired embedding."""

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline

from skgcrdp import CrossModalRetriever, RelativeDistanceAligner


def test_aligner_after_per_modality_pca(synthetic):
    X, y, n_image = synthetic
    pca = ColumnTransformer([
        ("img", PCA(6, random_state=0), slice(0, n_image)),
        ("txt", PCA(4, random_state=0), slice(n_image, None)),
    ])
    pipe = make_pipeline(
        pca, RelativeDistanceAligner(n_image_features=6, random_state=0, max_epochs=100, lr=1e-2),
        CrossModalRetriever(),
    ).fit(X, y)
    assert pipe[:-1].transform(X).shape == (len(X), 8)
    # Training on these pairs must align them better than the untrained heads.
    untrained = make_pipeline(
        pca, RelativeDistanceAligner(n_image_features=6, random_state=0, max_epochs=0),
        CrossModalRetriever(),
    ).fit(X, y)
    assert pipe.score(X, y) > untrained.score(X, y) + 0.1


def test_width_defaults_to_the_narrower_modality_and_heads_start_as_identity(rng):
    # Equal input and output widths: residual heads start as the identity,
    # so an aligner trained for no epoch hands back its (normalised) input.
    Z = rng.randn(60, 12)
    y = np.repeat(np.arange(6), 10)
    untrained = RelativeDistanceAligner(random_state=0, max_epochs=0).fit(Z, y)
    assert untrained.embedding_dim_ == 6
    out = untrained.transform(Z)
    for half, given in ((out[:, :6], Z[:, :6]), (out[:, 6:], Z[:, 6:])):
        np.testing.assert_allclose(half, given / np.linalg.norm(given, axis=1, keepdims=True),
                                   atol=1e-5)
    narrow = RelativeDistanceAligner(n_image_features=8, random_state=0, max_epochs=1)
    assert narrow.fit(rng.randn(60, 12), y).embedding_dim_ == 4


def test_relative_distance_term_changes_what_is_learned(synthetic):
    X, y, n_image = synthetic
    pca = ColumnTransformer([("img", PCA(6, random_state=0), slice(0, n_image)),
                             ("txt", PCA(6, random_state=0), slice(n_image, None))])
    Z = pca.fit_transform(X)
    with_rdp = RelativeDistanceAligner(random_state=0, max_epochs=5).fit(Z, y).transform(Z)
    without = RelativeDistanceAligner(rdp_weight=0.0, random_state=0, max_epochs=5).fit(Z, y).transform(Z)
    assert not np.allclose(with_rdp, without, atol=1e-4)


def test_odd_input_width_needs_the_split(rng):
    with pytest.raises(ValueError, match="odd number"):
        RelativeDistanceAligner(max_epochs=1).fit(rng.randn(20, 7), np.repeat([0, 1], 10))
