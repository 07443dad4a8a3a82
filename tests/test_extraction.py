"""The extract step: GMMFeatureExtractor and the class mixtures it refits while it trains."""

import numpy as np
import pytest

from skgcrdp import GMMFeatureExtractor
from skgcrdp._mixtures import n_components_for

from .conftest import FAST


def test_output_is_two_unit_halves_named_for_the_split(synthetic):
    X, y, n_image = synthetic
    model = GMMFeatureExtractor(n_image, random_state=0, **FAST).fit(X, y)
    Z = model.transform(X)
    d = FAST["embedding_dim"]
    assert model.embedding_dim_ == d and Z.shape == (len(y), 2 * d) and Z.dtype == np.float32
    for half in (Z[:, :d], Z[:, d:]):
        np.testing.assert_allclose(np.linalg.norm(half, axis=1), 1.0, rtol=1e-5)
    names = model.get_feature_names_out()
    assert names[0] == "img__z0" and names[d] == "txt__z0" and len(names) == 2 * d


@pytest.mark.parametrize("n_samples, wanted, expected", [(1, 3, 1), (7, 3, 1), (8, 3, 2), (100, 3, 3)])
def test_components_per_class_follow_class_size(n_samples, wanted, expected):
    assert n_components_for(n_samples, wanted) == expected


def test_prototypes_sit_among_their_class(synthetic):
    X, y, n_image = synthetic
    model = GMMFeatureExtractor(n_image, random_state=0, max_epochs=20, n_components_per_class=2).fit(X, y)
    Z = model.transform(X)
    d = model.embedding_dim_
    for protos, half in ((model.image_prototypes_, Z[:, :d]), (model.text_prototypes_, Z[:, d:])):
        nearest = np.argsort(((protos[:, None, :] - half[None]) ** 2).sum(-1), axis=1)[:, :5]
        agreement = (y[nearest] == model.prototype_labels_[:, None]).mean()
        assert agreement > 0.8


def _count_refits(monkeypatch):
    """Record the epochs trained at each refit of the mixtures."""
    from skgcrdp import extraction

    calls = []
    original = extraction._PairMixtures.refit
    monkeypatch.setattr(extraction._PairMixtures, "refit",
                        lambda self, net: calls.append(len(net.history)) or original(self, net))
    return calls


def test_mixtures_are_refitted_on_schedule(synthetic, monkeypatch):
    calls = _count_refits(monkeypatch)
    X, y, n_image = synthetic
    GMMFeatureExtractor(n_image, random_state=0, refit_interval=2, **(FAST | {"max_epochs": 5})).fit(X, y)
    # Before epochs 1, 3 and 5 (0, 2 and 4 epochs trained), and once after training.
    assert calls == [0, 2, 4, 5]


def test_without_prototypes_no_mixtures_are_fitted(synthetic, monkeypatch):
    calls = _count_refits(monkeypatch)
    X, y, n_image = synthetic
    model = GMMFeatureExtractor(n_image, prototype_weight=0.0, random_state=0, **FAST).fit(X, y)
    assert model.image_prototypes_.shape[0] == 0
    assert calls == []


def _few_shot(X, y, shots_by_class):
    keep = np.concatenate([np.flatnonzero(y == c)[:k] for c, k in shots_by_class.items()])
    return X[keep], y[keep]


def test_classes_too_small_for_a_mixture_train_as_without_prototypes(synthetic):
    X, y, n_image = synthetic
    X5, y5 = _few_shot(X, y, {c: 5 for c in np.unique(y)})
    small = GMMFeatureExtractor(n_image, random_state=0, **FAST).fit(X5, y5)
    plain = GMMFeatureExtractor(n_image, prototype_weight=0.0, random_state=0, **FAST).fit(X5, y5)
    assert small.image_prototypes_.shape[0] == 0
    np.testing.assert_allclose(small.transform(X), plain.transform(X))
    # With the rule off, every class keeps its one-component "mixture", and training changes.
    every = GMMFeatureExtractor(n_image, min_pairs_for_mixture=1, random_state=0, **FAST).fit(X5, y5)
    assert every.image_prototypes_.shape[0] == len(np.unique(y))
    assert not np.allclose(every.transform(X), plain.transform(X), atol=1e-4)


def test_only_classes_with_pairs_enough_get_prototypes(synthetic):
    X, y, n_image = synthetic
    classes = np.unique(y)
    Xm, ym = _few_shot(X, y, {c: 8 if c in classes[:2] else 7 for c in classes})
    model = GMMFeatureExtractor(n_image, n_components_per_class=2, random_state=0, **FAST).fit(Xm, ym)
    assert sorted(model.prototype_labels_) == [classes[0], classes[0], classes[1], classes[1]]
    assert np.isfinite(model.transform(Xm)).all()


def test_a_one_pair_class_gets_its_pair_as_its_prototype(synthetic):
    # With min_pairs_for_mixture=1 a class of one pair cannot run EM; its
    # "mixture" is one component at its pair's embedding.
    X, y, n_image = synthetic
    classes = np.unique(y)
    Xk, yk = _few_shot(X, y, {c: 1 if c == classes[0] else 8 for c in classes})
    model = GMMFeatureExtractor(n_image, min_pairs_for_mixture=1, n_components_per_class=2,
                                random_state=0, **FAST).fit(Xk, yk)
    one = model.prototype_labels_ == classes[0]
    assert one.sum() == 1
    Z = model.transform(Xk[yk == classes[0]])
    d = model.embedding_dim_
    np.testing.assert_allclose(model.image_prototypes_[one][0], Z[0, :d], atol=1e-5)
    np.testing.assert_allclose(model.text_prototypes_[one][0], Z[0, d:], atol=1e-5)


def test_mixtures_see_at_most_their_cap_of_each_class_drawn_from_its_own_rows():
    from skgcrdp import extraction

    rng = np.random.default_rng(1)
    y = rng.choice([0, 3, 6, 9], size=2000, p=[0.6, 0.3, 0.05, 0.05])  # unsorted labels
    classes, counts = extraction._classes_with_mixtures(y, 50)
    rows = extraction._mixture_rows(y, classes, counts, seed=0)
    drawn = dict(zip(*np.unique(y[rows], return_counts=True)))
    assert drawn == {c: min(n, extraction.MAX_PAIRS_PER_MIXTURE) for c, n in zip(classes, counts)}
    assert len(np.unique(rows)) == len(rows)
    # Seeded: the same draw again, another with another seed.
    np.testing.assert_array_equal(rows, extraction._mixture_rows(y, classes, counts, seed=0))
    assert not np.array_equal(rows, extraction._mixture_rows(y, classes, counts, seed=1))
    # Every pair of every class, when none is over the cap: all rows, shared.
    small = np.repeat([0, 1], 20)
    every = extraction._mixture_rows(small, *extraction._classes_with_mixtures(small, 8), seed=0)
    assert every == slice(None)
