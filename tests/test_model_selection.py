import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score

from skgcrdp import CrossModalRetriever
from skgcrdp.model_selection import ClassDisjointSplit


def test_folds_are_class_disjoint_and_cover_test_classes():
    y = np.repeat(np.arange(6), 10)
    cv = ClassDisjointSplit(n_splits=4, test_size=0.5, random_state=0)
    seen_test_sets = set()
    for train, test in cv.split(np.zeros((60, 2)), y):
        assert not set(y[train]) & set(y[test])
        assert len(set(y[test])) == 3 and len(set(y[train])) == 3
        # every pair of a test class is in the test fold
        assert len(test) == 30 and len(train) == 30
        seen_test_sets.add(frozenset(y[test]))
    assert len(seen_test_sets) > 1


def test_n_shots_per_seen_class():
    y = np.repeat(np.arange(5), [3, 10, 10, 10, 10])
    cv = ClassDisjointSplit(n_splits=3, test_size=2, n_shots=4, random_state=1)
    for train, _ in cv.split(None, y):
        counts = np.bincount(y[train], minlength=5)
        assert set(counts[counts > 0]) <= {3, 4}


def test_same_seed_same_splits():
    y = np.repeat(np.arange(6), 5)
    a = list(ClassDisjointSplit(3, n_shots=2, random_state=7).split(None, y))
    b = list(ClassDisjointSplit(3, n_shots=2, random_state=7).split(None, y))
    for (tr_a, te_a), (tr_b, te_b) in zip(a, b):
        np.testing.assert_array_equal(tr_a, tr_b)
        np.testing.assert_array_equal(te_a, te_b)


def test_n_shots_keeps_the_class_draws():
    # K-shot episodes must hold the same seen/unseen classes as K=all ones,
    # so that results per K compare like with like.
    y = np.repeat(np.arange(8), 6)
    full = ClassDisjointSplit(4, random_state=3).split(None, y)
    few = ClassDisjointSplit(4, n_shots=2, random_state=3).split(None, y)
    for (tr_full, te_full), (tr_few, te_few) in zip(full, few):
        np.testing.assert_array_equal(te_full, te_few)
        assert set(y[tr_few]) == set(y[tr_full])
        assert set(tr_few) < set(tr_full)


@pytest.mark.parametrize("test_size", [1, 0.1, 4, 0.9])
def test_too_few_classes_on_either_side(test_size):
    y = np.repeat(np.arange(5), 4)
    with pytest.raises(ValueError, match="at least 2 of each"):
        list(ClassDisjointSplit(test_size=test_size).split(None, y))


def test_needs_y():
    with pytest.raises(ValueError, match="needs y"):
        list(ClassDisjointSplit().split(np.zeros((4, 2)), None))


def test_usable_as_cv_in_sklearn(rng):
    Z = rng.randn(60, 6)
    y = np.repeat(np.arange(6), 10)
    cv = ClassDisjointSplit(n_splits=3, random_state=0)
    scores = cross_val_score(CrossModalRetriever(), Z, y, cv=cv)
    assert scores.shape == (3,)
    search = GridSearchCV(CrossModalRetriever(), {"similarity": ["cosine", "dot"]}, cv=cv).fit(Z, y)
    assert search.best_params_["similarity"] in ("cosine", "dot")
