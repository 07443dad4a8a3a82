"""Property-based tests of the retrieval metrics (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import label_ranking_average_precision_score, ndcg_score

from skgcrdp.metrics import mean_average_precision, ndcg_at_k, precision_at_k, recall_at_k

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")

AT_K = {"map": mean_average_precision, "precision": precision_at_k, "recall": recall_at_k,
        "ndcg": ndcg_at_k}


@st.composite
def rankings(draw, tied=True):
    """Queries, gallery and integer scores (few values, so ties are common)."""
    n_q = draw(st.integers(1, 6))
    n_g = draw(st.integers(2, 12))
    n_classes = draw(st.integers(1, 3))
    y_q = np.array(draw(st.lists(st.integers(0, n_classes - 1), min_size=n_q, max_size=n_q)))
    y_g = np.array(draw(st.lists(st.integers(0, n_classes - 1), min_size=n_g, max_size=n_g)))
    y_g[0] = y_q[0]  # at least one query has a relevant item
    high = 3 if tied else 1000
    scores = np.array(
        draw(st.lists(st.integers(0, high), min_size=n_q * n_g, max_size=n_q * n_g)), dtype=float
    ).reshape(n_q, n_g)
    k = draw(st.integers(1, n_g + 2))
    return y_q, y_g, scores, k


def _defined(y_q, y_g):
    return np.isin(y_q, y_g)


@settings(max_examples=60, deadline=None)
@given(rankings(), st.randoms(use_true_random=False))
def test_gallery_permutation_changes_nothing(case, random):
    y_q, y_g, scores, k = case
    order = np.array(random.sample(range(len(y_g)), len(y_g)))
    assert mean_average_precision(y_q, y_g[order], scores[:, order]) == pytest.approx(
        mean_average_precision(y_q, y_g, scores))
    for name, metric in AT_K.items():
        assert metric(y_q, y_g[order], scores[:, order], k=k) == pytest.approx(
            metric(y_q, y_g, scores, k=k)), name


@settings(max_examples=60, deadline=None)
@given(rankings())
def test_strictly_increasing_transform_of_scores_changes_nothing(case):
    y_q, y_g, scores, k = case
    transformed = np.exp(scores / 2.0) * 3.0 - 7.0  # strictly increasing, keeps ties
    assert mean_average_precision(y_q, y_g, transformed) == pytest.approx(
        mean_average_precision(y_q, y_g, scores))
    for name, metric in AT_K.items():
        assert metric(y_q, y_g, transformed, k=k) == pytest.approx(metric(y_q, y_g, scores, k=k)), name


@settings(max_examples=60, deadline=None)
@given(rankings())
def test_perfect_ranking_scores_one_and_its_reverse_the_minimum(case):
    y_q, y_g, _, _ = case
    keep = _defined(y_q, y_g)
    y_q = y_q[keep]
    relevant = (y_q[:, None] == y_g[None, :]).astype(float)
    assert mean_average_precision(y_q, y_g, relevant) == pytest.approx(1.0)
    assert ndcg_at_k(y_q, y_g, relevant, k=len(y_g)) == pytest.approx(1.0)
    # Reversed: a strict perfect ranking turned upside down puts every
    # relevant item, untied, after every other item.
    n = len(y_g)
    strict = relevant * 2 * n + np.arange(n)[None, :]
    expected = np.mean([
        np.mean([j / (n - r + j) for j in range(1, r + 1)]) for r in relevant.sum(axis=1).astype(int)
    ])
    assert mean_average_precision(y_q, y_g, -strict) == pytest.approx(expected)
    assert mean_average_precision(y_q, y_g, strict) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(rankings())
def test_at_k_metrics_against_their_all_counterparts(case):
    y_q, y_g, scores, k = case
    n = len(y_g)
    assert mean_average_precision(y_q, y_g, scores, k=n) == pytest.approx(
        mean_average_precision(y_q, y_g, scores))
    assert recall_at_k(y_q, y_g, scores, k=n) == pytest.approx(1.0)
    recalls = [recall_at_k(y_q, y_g, scores, k=j) for j in range(1, n + 1)]
    assert all(a <= b + 1e-12 for a, b in zip(recalls, recalls[1:]))
    for metric in AT_K.values():
        assert 0.0 <= metric(y_q, y_g, scores, k=k) <= 1.0 + 1e-12


@settings(max_examples=80, deadline=None)
@given(rankings(), st.booleans())
def test_equal_to_scikit_learn(case, float32):
    y_q, y_g, scores, k = case
    keep = _defined(y_q, y_g)
    y_q, scores = y_q[keep], scores[keep]
    if float32:
        scores = scores.astype(np.float32)
    relevant = y_q[:, None] == y_g[None, :]
    assert mean_average_precision(y_q, y_g, scores) == pytest.approx(
        label_ranking_average_precision_score(relevant, scores))
    if len(y_g) > 1:
        assert ndcg_at_k(y_q, y_g, scores, k=k) == pytest.approx(
            ndcg_score(relevant.astype(float), scores, k=k))
