import numpy as np
from sklearn.cross_decomposition import CCA, PLSCanonical
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgcrdp import CrossModalRetriever, RelativeDistanceAligner, embed_modality
from skgcrdp.baselines import CrossDecompositionEmbedder, RandomProjectionEmbedder
from skgcrdp.profiles import RelativeProfileEmbedder


def test_cross_decomposition_equals_the_two_view_model(synthetic):
    X, y, n_image = synthetic
    A = StandardScaler().fit_transform(X[:, :n_image])
    B = StandardScaler().fit_transform(X[:, n_image:])
    expected = np.hstack(PLSCanonical(4).fit(A, B).transform(A, B))
    Z = CrossDecompositionEmbedder(n_image, PLSCanonical(4)).fit_transform(X)
    np.testing.assert_allclose(Z, expected, atol=1e-8)


def test_one_modality_halves(synthetic):
    X, y, n_image = synthetic
    for embedder in (CrossDecompositionEmbedder(n_image, CCA(3)),
                     RandomProjectionEmbedder(n_image, 3, random_state=0)):
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
    rand = make_pipeline(RandomProjectionEmbedder(n_image, 4, random_state=0),
                         CrossModalRetriever()).fit(X, y)
    chance = 1 / len(np.unique(y))
    assert cca.score(X, y) > 0.5
    assert abs(rand.score(X, y) - chance) < 0.15


def test_pca_front_equals_the_two_view_model_on_principal_components(synthetic):
    X, y, n_image = synthetic
    from sklearn.decomposition import PCA

    A = StandardScaler().fit_transform(X[:, :n_image])
    B = StandardScaler().fit_transform(X[:, n_image:])
    pa, pb = PCA(5, svd_solver="full").fit(A), PCA(5, svd_solver="full").fit(B)
    expected = np.hstack(PLSCanonical(3).fit(pa.transform(A), pb.transform(B))
                         .transform(pa.transform(A), pb.transform(B)))
    embedder = CrossDecompositionEmbedder(n_image, PLSCanonical(3), n_pca_components=5)
    np.testing.assert_allclose(embedder.fit_transform(X), expected, atol=1e-8)
    np.testing.assert_allclose(embedder.transform_modality(X[:, n_image:], "text"), expected[:, 3:],
                               atol=1e-8)
    assert embedder.pcas_["image"].n_components_ == 5
    assert CrossDecompositionEmbedder(n_image, CCA(2)).fit(X).pcas_ == {"image": None, "text": None}


def test_pca_front_lets_cca_fit_more_features_than_pairs(rng):
    # 40 pairs of 300 + 200 features: the whitened views would be singular.
    from sklearn.datasets import make_classification

    base, y = make_classification(60, 20, n_informative=10, n_classes=4, random_state=0)
    X = np.hstack([base @ rng.randn(20, 300), base @ rng.randn(20, 200)]) + 0.1 * rng.randn(60, 500)
    embedder = CrossDecompositionEmbedder(300, CCA(4, max_iter=1000), n_pca_components=100)
    Z = embedder.fit(X[:40], y[:40]).transform(X[40:])
    assert embedder.pcas_["image"].n_components_ == 39  # capped below the number of pairs
    assert Z.shape == (20, 8) and np.isfinite(Z).all()


def test_relative_profiles_are_centred_similarities_to_the_anchors(synthetic):
    X, y, n_image = synthetic
    from skgcrdp.utils import normalize_rows

    train, test = X[:120], X[120:]
    A = StandardScaler().fit(train[:, n_image:])
    anchors = normalize_rows(A.transform(train[:, n_image:]))
    similarity = normalize_rows(A.transform(test[:, n_image:])) @ anchors.T
    expected = normalize_rows(similarity - similarity.mean(axis=1, keepdims=True))
    embedder = RelativeProfileEmbedder(n_image).fit(train)
    Z = embedder.transform(test)
    assert Z.shape == (len(test), 2 * 120)  # one coordinate per anchor pair and modality
    np.testing.assert_allclose(Z[:, 120:], expected, atol=1e-10)
    np.testing.assert_allclose(embedder.transform_modality(test[:, :n_image], "image"), Z[:, :120])
    np.testing.assert_allclose(np.linalg.norm(Z[:, :120], axis=1), 1)
    soft = RelativeProfileEmbedder(n_image, temperature=0.1).fit(train).transform(test)
    assert np.isfinite(soft).all() and np.abs(soft - Z).max() > 0.1


def test_relative_profiles_retrieve_unseen_classes_without_training(synthetic):
    from skgcrdp.metrics import cross_modal_retrieval_score

    X, y, n_image = synthetic
    seen = y < 3  # anchors from three classes, queries and gallery from the other three
    Z = RelativeProfileEmbedder(n_image).fit(X[seen]).transform(X[~seen])
    chance = RandomProjectionEmbedder(n_image, 10, random_state=0).fit(X[seen]).transform(X[~seen])
    assert cross_modal_retrieval_score(Z, y[~seen]) > cross_modal_retrieval_score(chance, y[~seen]) + 0.1


def test_every_embedder_names_its_outputs_for_the_split(synthetic):
    import pandas as pd

    from skgcrdp.union import SharedSpaceUnion

    X, y, n_image = synthetic
    for embedder in (CrossDecompositionEmbedder(n_image, CCA(3)),
                     RandomProjectionEmbedder(n_image, 4, random_state=0),
                     RelativeProfileEmbedder(n_image)):
        Z = embedder.fit(X, y).set_output(transform="pandas").transform(X)
        d = embedder.embedding_dim_
        assert isinstance(Z, pd.DataFrame) and Z.shape[1] == 2 * d
        assert list(Z.columns[[0, d]]) == ["img__z0", "txt__z0"]
    union = SharedSpaceUnion([("cca", CrossDecompositionEmbedder(n_image, CCA(3))),
                              ("chance", RandomProjectionEmbedder(n_image, 2, random_state=0))])
    names = union.fit(X, y).get_feature_names_out()
    assert union.embedding_dims_ == {"cca": 3, "chance": 2}
    assert list(names) == ["img__cca_z0", "img__cca_z1", "img__cca_z2", "img__chance_z0",
                           "img__chance_z1", "txt__cca_z0", "txt__cca_z1", "txt__cca_z2",
                           "txt__chance_z0", "txt__chance_z1"]
    assert union.transform(X).shape[1] == len(names)


def test_dscmr_on_unseen_open_clip_art_classes_beats_chance():
    # Fitted on half of the classes, scored on the other half, beside the
    # chance floor fitted on the same pairs.
    from skgcrdp.baselines import DSCMREmbedder
    from skgcrdp.datasets import load_openclipart
    from skgcrdp.metrics import cross_modal_retrieval_score
    from skgcrdp.model_selection import ClassDisjointSplit

    data = load_openclipart()
    X, y, n_image = data.data, data.target, data.n_image_features
    seen, unseen = next(ClassDisjointSplit(1, test_size=0.5, random_state=0).split(X, y))
    dscmr = DSCMREmbedder(n_image, hidden_dim=256, embedding_dim=32, max_epochs=15,
                          device="cpu", random_state=0).fit(X[seen], y[seen])
    chance = RandomProjectionEmbedder(n_image, 32, random_state=0).fit(X[seen], y[seen])
    score = cross_modal_retrieval_score(dscmr.transform(X[unseen]), y[unseen])
    floor = cross_modal_retrieval_score(chance.transform(X[unseen]), y[unseen])
    assert score > 1.5 * floor, (score, floor)
    # Retrieval is in the common space: each modality alone gives its half.
    Z = dscmr.transform(X[unseen][:5])
    np.testing.assert_allclose(dscmr.transform_modality(X[unseen][:5, n_image:], "text"),
                               Z[:, 32:], rtol=1e-5)
    assert dscmr.net_.module_.classifier.out_features == len(np.unique(y[seen]))
    names = dscmr.get_feature_names_out()
    assert len(names) == 64 and names[0] == "img__z0" and names[32] == "txt__z0"
