import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    label_ranking_average_precision_score,
    ndcg_score,
)

from skgcrdp.metrics import (
    cross_modal_retrieval_score,
    embedding_retrieval_score,
    make_retrieval_scorer,
    mean_average_precision,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)


def _case(rng, n_q=40, n_g=60, n_classes=4, tied=False):
    y_q = rng.randint(n_classes, size=n_q)
    y_g = rng.randint(n_classes, size=n_g)
    y_g[:n_classes] = np.arange(n_classes)  # every query has a relevant item
    scores = rng.randint(0, 5, size=(n_q, n_g)).astype(float) if tied else rng.randn(n_q, n_g)
    return y_q, y_g, scores


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("block_size", [None, 7])
def test_map_equals_sklearn(tied, block_size, rng):
    y_q, y_g, scores = _case(rng, tied=tied)
    relevant = (y_q[:, None] == y_g[None, :]).astype(int)
    expected = label_ranking_average_precision_score(relevant, scores)
    per_query = np.mean([average_precision_score(r, s) for r, s in zip(relevant, scores)])
    ours = mean_average_precision(y_q, y_g, scores, block_size=block_size)
    assert ours == pytest.approx(expected, abs=1e-12)
    assert ours == pytest.approx(per_query, abs=1e-12)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("k", [1, 5, 17, 60])
def test_ndcg_equals_sklearn(tied, k, rng):
    y_q, y_g, scores = _case(rng, tied=tied)
    relevant = (y_q[:, None] == y_g[None, :]).astype(int)
    assert ndcg_at_k(y_q, y_g, scores, k=k, block_size=11) == pytest.approx(
        ndcg_score(relevant, scores, k=k), abs=1e-12
    )


def _brute_force(y_q, y_g, scores, k):
    """Reference @k metrics by explicit loops over untied rankings."""
    prec, rec, ap = [], [], []
    for yq, s in zip(y_q, scores):
        rel = (y_g == yq)[np.argsort(-s)]
        n_rel = rel.sum()
        prec.append(rel[:k].sum() / k)
        rec.append(rel[:k].sum() / n_rel)
        hits = np.cumsum(rel)
        ap.append(sum(hits[i] / (i + 1) for i in range(k) if rel[i]) / min(n_rel, k))
    return np.mean(prec), np.mean(rec), np.mean(ap)


@pytest.mark.parametrize("k", [1, 3, 10, 60])
def test_at_k_metrics_match_a_loop(k, rng):
    y_q, y_g, scores = _case(rng)
    prec, rec, ap = _brute_force(y_q, y_g, scores, k)
    assert precision_at_k(y_q, y_g, scores, k=k) == pytest.approx(prec)
    assert recall_at_k(y_q, y_g, scores, k=k) == pytest.approx(rec)
    assert mean_average_precision(y_q, y_g, scores, k=k) == pytest.approx(ap)


def test_precision_counts_ties_at_cutoff_by_expected_share():
    # Two items tied at the cut-off, one relevant: half of it counts.
    assert precision_at_k([0], [0, 0, 1], [[3.0, 1.0, 1.0]], k=2) == pytest.approx(0.75)


def test_map_at_all_is_map_at_gallery_size(rng):
    y_q, y_g, scores = _case(rng)
    assert mean_average_precision(y_q, y_g, scores, k=len(y_g)) == pytest.approx(
        mean_average_precision(y_q, y_g, scores)
    )


def test_queries_without_relevant_items_are_skipped_with_warning():
    with pytest.warns(UserWarning, match="no relevant gallery item"):
        value = mean_average_precision([0, 2], [0, 1], [[1.0, 0.0], [0.5, 0.2]])
    assert value == 1.0


@pytest.mark.parametrize("k", [0, -1, 2.5, None])
def test_bad_k_is_rejected(k):
    with pytest.raises(ValueError, match="k must be a positive integer"):
        precision_at_k([0], [0, 1], [[1.0, 0.0]], k=k)


def test_scores_shape_is_checked():
    with pytest.raises(ValueError, match="scores has shape"):
        mean_average_precision([0, 1], [0, 1, 1], np.zeros((2, 2)))


def test_embedding_score_equals_score_matrix(rng):
    Q, G = rng.randn(30, 5), rng.randn(50, 5)
    y_q, y_g = rng.randint(3, size=30), rng.randint(3, size=50)
    y_g[:3] = [0, 1, 2]
    cos = (Q / np.linalg.norm(Q, axis=1)[:, None]) @ (G / np.linalg.norm(G, axis=1)[:, None]).T
    assert embedding_retrieval_score(Q, G, y_q, y_g, block_size=4) == pytest.approx(
        mean_average_precision(y_q, y_g, cos)
    )
    assert embedding_retrieval_score(Q, G, y_q, y_g, metric="ndcg", k=5) == pytest.approx(
        ndcg_at_k(y_q, y_g, cos, k=5)
    )


def test_cross_modal_score_both_is_mean_of_directions(rng):
    Z, y = rng.randn(40, 8), rng.randint(4, size=40)
    i2t = cross_modal_retrieval_score(Z, y, direction="image_to_text")
    t2i = cross_modal_retrieval_score(Z, y, direction="text_to_image")
    assert i2t != t2i
    assert cross_modal_retrieval_score(Z, y) == pytest.approx((i2t + t2i) / 2)


def test_cross_modal_score_rejects_odd_width(rng):
    with pytest.raises(ValueError, match="odd number"):
        cross_modal_retrieval_score(rng.randn(4, 5), [0, 1, 0, 1])


def test_scorer_on_a_plain_transformer(rng):
    from sklearn.preprocessing import FunctionTransformer

    Z, y = rng.randn(40, 8), rng.randint(4, size=40)
    scorer = make_retrieval_scorer("precision", k=5, direction="text_to_image")
    identity = FunctionTransformer().fit(Z)
    assert scorer(identity, Z, y) == pytest.approx(
        cross_modal_retrieval_score(Z, y, metric="precision", k=5, direction="text_to_image")
    )


def _tied_reference(metric, k, y_q, y_g, scores):
    """@k metrics row by row, walking tie groups of a full sort."""
    values = []
    for y, row in zip(y_q, scores):
        relevant = y_g == y
        n_rel = relevant.sum()
        if n_rel == 0:
            continue
        kk = min(k, len(row))
        position, hits, total, gains = 0, 0, 0.0, []
        for value in np.unique(row)[::-1]:
            group = row == value
            size, rel_in = group.sum(), relevant[group].sum()
            last = position + size - 1
            hits += rel_in
            if last < kk:
                total += rel_in * hits / (last + 1)
            gains += [rel_in / size] * size
            position += size
        gains = np.array(gains[:kk])
        if metric == "map":
            values.append(total / min(n_rel, kk))
        elif metric == "precision":
            values.append(gains.sum() / kk)
        else:
            values.append(gains.sum() / n_rel)
    return np.mean(values)


@pytest.mark.parametrize("metric", ["map", "precision", "recall"])
@pytest.mark.parametrize("k", [1, 3, 7, 60, 100])
def test_at_k_metrics_with_heavy_ties_match_a_full_sort(metric, k, rng):
    y_q, y_g, scores = _case(rng, tied=True)
    functions = {"map": mean_average_precision, "precision": precision_at_k, "recall": recall_at_k}
    got = functions[metric](y_q, y_g, scores, k=k)
    assert got == pytest.approx(_tied_reference(metric, k, y_q, y_g, scores))





def test_bad_similarity_is_named():
    with pytest.raises(ValueError, match="similarity must be one of"):
        cross_modal_retrieval_score(np.ones((2, 4)), [0, 1], similarity="manhattan")
    with pytest.raises(ValueError, match="similarity must be one of"):
        make_retrieval_scorer(similarity="manhattan")
