import numpy as np
from sklearn.cross_decomposition import CCA, PLSCanonical
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgcrdp import CrossModalRetriever, RelativeDistanceAligner, embed_modality
from skgcrdp.baselines import CrossDecompositionEmbedder, RandomProjectionEmbedder


def test_cross_decomposition_equals_the_two_view_model(synthetic):
    X, y, n_image = synthetic
    A = StandardScaler().fit_transform(X[:, :n_image])
    B = StandardScaler().fit_transform(X[:, n_image:])
    expected = np.hstack(PLSCanonical(4).fit(A, B).transform(A, B))
    Z = CrossDecompositionEmbedder(n_image, PLSCanonical(4)).fit_transform(X)
    np.testing.assert_allclose(Z, expected, atol=1e-8)


def test_one_modality_halves(synthetic):
    X, y, n_image = synthetic
    for embedder in (CrossDecompositionEmbedder(n_image, CCA(3)), RandomProjectionEmbedder(n_image, 3, random_state=0)):
        Z = embedder.fit(X).transform(X)
        np.testing.assert_allclose(embedder.transform_modality(X[:, :n_image], "image"), Z[:, :3])
        np.testing.assert_allclose(embedder.transform_modality(X[:, n_image:], "text"), Z[:, 3:])


def test_aligner_after_cca_and_one_modality_through_the_pipeline(synthetic):
    X, y, n_image = synthetic
    pipe = make_pipeline(
        CrossDecompositionEmbedder(n_image, CCA(4)),
        RelativeDistanceAligner(random_state=0, max_epochs=5),
        CrossModalRetriever(),
    ).fit(X, y)
    paired = pipe[:-1].transform(X)
    np.testing.assert_allclose(embed_modality(pipe, X[:, :n_image], "image"), paired[:, :4], atol=1e-6)
    assert pipe.score(X, y) > 0.5


def test_cca_retrieves_and_random_projection_does_not(synthetic):
    X, y, n_image = synthetic
    cca = make_pipeline(CrossDecompositionEmbedder(n_image, CCA(4)), CrossModalRetriever()).fit(X, y)
    rand = make_pipeline(RandomProjectionEmbedder(n_image, 4, random_state=0), CrossModalRetriever()).fit(X, y)
    chance = 1 / len(np.unique(y))
    assert cca.score(X, y) > 0.5
    assert abs(rand.score(X, y) - chance) < 0.15
