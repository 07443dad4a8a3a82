"""Retrieval metrics and scorers for cross-modal search.

All metrics treat a gallery item as relevant to a query when both have the
same class, rank the gallery by decreasing similarity and average over
queries. Ties are handled as scikit-learn does: mAP@all equals
``label_ranking_average_precision_score`` (a tied group counts as ranked
before each of its members), and the @k metrics average over the orders of a
tied group, as ``ndcg_score`` does. Queries are processed in blocks, so the
memory used beside the inputs is bounded by ``block_size`` rows.

Queries without any relevant gallery item are left out of the mean, with a
warning: their precision is undefined.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.validation import check_array, column_or_1d

from .modalities import shared_space
from .utils import SIMILARITIES, similarity_matrix
from .utils import normalize_rows as _unit_rows  # its public path is skgcrdp.utils

__all__ = [
    "RetrievalScorer",
    "cross_modal_retrieval_score",
    "embedding_retrieval_score",
    "make_retrieval_scorer",
    "map_image_to_text_scorer",
    "map_scorer",
    "map_text_to_image_scorer",
    "mean_average_precision",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
]

METRICS = ("map", "precision", "recall", "ndcg")
DIRECTIONS = ("image_to_text", "text_to_image", "both")

# Elements per block of (queries x gallery) working arrays: about 4 M, i.e. a
# few tens of MB for the handful of arrays a block needs.
_BLOCK_ELEMENTS = 2**22


def _block_rows(n_gallery, block_size):
    if block_size is not None:
        return int(block_size)
    return max(1, _BLOCK_ELEMENTS // max(1, n_gallery))


def _check_k(k, allow_none):
    if k is None and allow_none:
        return None
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    return int(k)


def _tie_groups(sorted_scores):
    """First and last position of the tie group of each position (per row)."""
    n = sorted_scores.shape[1]
    positions = np.arange(n)
    differs = sorted_scores[:, 1:] != sorted_scores[:, :-1]
    is_last = np.concatenate([differs, np.ones((len(sorted_scores), 1), bool)], axis=1)
    is_first = np.concatenate([np.ones((len(sorted_scores), 1), bool), differs], axis=1)
    last = np.where(is_last, positions, n)
    last = np.minimum.accumulate(last[:, ::-1], axis=1)[:, ::-1]
    first = np.maximum.accumulate(np.where(is_first, positions, -1), axis=1)
    return first, last


def _average_precision_at_all(scores, y_query, gallery_columns):
    """Per-query AP@all of one block, by sorting scores instead of ranking them.

    For a relevant item with score ``s``, ``rank`` counts the gallery items
    scoring at least ``s`` and ``hits`` the relevant ones among them, so a
    tied group counts as ranked before each of its members, as in
    ``label_ranking_average_precision_score``. Both counts come from binary
    searches in sorted rows: one value sort per row (fast, vectorised) and
    one of the relevant items' scores, never an argsort and never a gather
    of the whole block.
    """
    n_gallery = scores.shape[1]
    values = np.full(scores.shape[0], np.nan)
    ordered = np.sort(scores, axis=1)
    for label in np.unique(y_query):
        rows = np.flatnonzero(y_query == label)
        columns = gallery_columns.get(label)
        if columns is None:
            continue
        relevant = np.sort(scores[np.ix_(rows, columns)], axis=1)
        rank = np.empty(relevant.shape)
        for i, row in enumerate(rows):
            rank[i] = n_gallery - np.searchsorted(ordered[row], relevant[i], side="left")
        # Relevant items ranked at or above each one: n - j for the j-th
        # smallest, unless it ties with others.
        hits = np.broadcast_to(np.arange(columns.size, 0, -1, dtype=np.float64), relevant.shape)
        tied = np.flatnonzero((relevant[:, 1:] == relevant[:, :-1]).any(axis=1))
        if tied.size:
            hits = hits.copy()
            for i in tied:
                hits[i] = columns.size - np.searchsorted(relevant[i], relevant[i], side="left")
        values[rows] = (hits / rank).sum(axis=1) / columns.size
    return values


def _block_values(metric, k, scores, relevant):
    """Per-query @k metric values for one block; NaN where undefined.

    Only the top ``k`` of each row are ordered: a partition finds each row's
    k-th score ``v``; items scoring above ``v`` are all in the top k and
    their tie groups are whole, so they are sorted among themselves; the tie
    group at ``v`` straddles the cut-off and is counted from the full row
    (its size and its relevant members), which gives the same values as a
    full sort with scikit-learn's tie handling.
    """
    n_gallery = scores.shape[1]
    kk = min(k, n_gallery)
    n_relevant = relevant.sum(axis=1).astype(np.float64)
    top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
    top_scores = np.take_along_axis(scores, top, axis=1)
    kth = top_scores.min(axis=1, keepdims=True)
    at_kth = scores == kth
    n_tie = at_kth.sum(axis=1).astype(np.float64)
    rel_tie = (at_kth & relevant).sum(axis=1).astype(np.float64)

    order = np.argsort(-top_scores, axis=1, kind="stable")
    sorted_scores = np.take_along_axis(top_scores, order, axis=1)
    rel = np.take_along_axis(np.take_along_axis(relevant, top, axis=1), order, axis=1)
    above = sorted_scores > kth
    n_above = above.sum(axis=1)
    rel_above = (rel & above).sum(axis=1).astype(np.float64)
    first, last = _tie_groups(sorted_scores)
    cum_rel = np.cumsum(rel & above, axis=1, dtype=np.float64)

    if metric == "map":
        # Items above the k-th score: relevant ones ranked at or above their
        # whole tie group. The group at the k-th score counts only when it
        # ends exactly at position k.
        hits = np.take_along_axis(cum_rel, last, axis=1)
        precision = np.where(rel & above, hits / (last + 1.0), 0.0).sum(axis=1)
        closes = n_above + n_tie == kk
        precision += np.where(closes, rel_tie * (rel_above + rel_tie) / kk, 0.0)
        values = precision / np.maximum(np.minimum(n_relevant, kk), 1)
    else:
        # Expected gain of each position under a random order of its tie group.
        group_rel = np.take_along_axis(cum_rel, last, axis=1) - np.where(
            first > 0, np.take_along_axis(cum_rel, np.maximum(first - 1, 0), axis=1), 0.0
        )
        gain = np.where(above, group_rel / (last - first + 1.0), (rel_tie / n_tie)[:, None])
        if metric == "precision":
            values = gain.sum(axis=1) / kk
        elif metric == "recall":
            values = gain.sum(axis=1) / np.maximum(n_relevant, 1)
        else:
            discount = 1.0 / np.log2(np.arange(2, kk + 2))
            ideal = np.cumsum(discount)[np.minimum(n_relevant, kk).astype(int) - 1]
            values = (gain @ discount) / ideal
    return np.where(n_relevant > 0, values, np.nan)


def _mean_over_blocks(metric, k, blocks, y_gallery):
    """Mean of a metric over blocks of ``(scores, y_query)``; warns on undefined queries."""
    if metric == "map" and k is None:
        gallery_columns = {
            label: np.flatnonzero(y_gallery == label) for label in np.unique(y_gallery)
        }
    total, count, n_undefined = 0.0, 0, 0
    for scores, y_query in blocks:
        if metric == "map" and k is None:
            values = _average_precision_at_all(scores, y_query, gallery_columns)
        else:
            values = _block_values(metric, k, scores, y_query[:, None] == y_gallery[None, :])
        defined = ~np.isnan(values)
        total += values[defined].sum()
        count += int(defined.sum())
        n_undefined += int((~defined).sum())
    if n_undefined:
        warnings.warn(
            f"{n_undefined} quer(ies) have no relevant gallery item and are left "
            "out of the mean.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    if count == 0:
        return 0.0
    return float(total / count)


def _check_labels_and_scores(y_query, y_gallery, scores):
    y_query = column_or_1d(y_query, warn=True)
    y_gallery = column_or_1d(y_gallery, warn=True)
    scores = check_array(scores, dtype=[np.float64, np.float32], input_name="scores")
    if scores.shape != (y_query.shape[0], y_gallery.shape[0]):
        raise ValueError(
            f"scores has shape {scores.shape}, but there are {y_query.shape[0]} "
            f"queries and {y_gallery.shape[0]} gallery items."
        )
    return y_query, y_gallery, scores


def _score_matrix_metric(metric, y_query, y_gallery, scores, k, block_size):
    y_query, y_gallery, scores = _check_labels_and_scores(y_query, y_gallery, scores)
    step = _block_rows(scores.shape[1], block_size)
    blocks = ((scores[i : i + step], y_query[i : i + step]) for i in range(0, scores.shape[0], step))
    return _mean_over_blocks(metric, k, blocks, y_gallery)


def mean_average_precision(y_query, y_gallery, scores, *, k=None, block_size=None):
    """Mean average precision of a ranking by similarity scores.

    Parameters
    ----------
    y_query : array-like of shape (n_queries,)
        Class of each query.
    y_gallery : array-like of shape (n_gallery,)
        Class of each gallery item.
    scores : array-like of shape (n_queries, n_gallery)
        Similarity of each query to each gallery item (higher ranks first).
    k : int, default=None
        None: mAP@all. Otherwise mAP@k: the precision at each relevant item
        ranked within the top k, summed and divided by ``min(n_relevant, k)``,
        so that a perfect ranking scores 1 for every k.
    block_size : int, default=None
        Queries per block; None picks one that keeps the working arrays near
        4 million elements.

    Returns
    -------
    score : float

    See Also
    --------
    sklearn.metrics.label_ranking_average_precision_score : Equal to the
        ``k=None`` case with relevance ``y_query[:, None] == y_gallery``.

    Examples
    --------
    >>> from skgcrdp.metrics import mean_average_precision
    >>> mean_average_precision([0, 1], [0, 1, 1], [[0.9, 0.1, 0.2], [0.9, 0.1, 0.8]])
    0.7916...
    """
    return _score_matrix_metric("map", y_query, y_gallery, scores, _check_k(k, True), block_size)


def precision_at_k(y_query, y_gallery, scores, *, k, block_size=None):
    """Fraction of relevant items among the top ``k``, averaged over queries.

    Ties at the cut-off count with their expected share. Parameters as in
    :func:`mean_average_precision`.

    Examples
    --------
    >>> from skgcrdp.metrics import precision_at_k
    >>> precision_at_k([0], [0, 1, 0], [[0.9, 0.8, 0.1]], k=2)
    0.5
    """
    return _score_matrix_metric("precision", y_query, y_gallery, scores, _check_k(k, False), block_size)


def recall_at_k(y_query, y_gallery, scores, *, k, block_size=None):
    """Fraction of a query's relevant items found in its top ``k``.

    Parameters as in :func:`mean_average_precision`.

    Examples
    --------
    >>> from skgcrdp.metrics import recall_at_k
    >>> recall_at_k([0], [0, 1, 0], [[0.9, 0.8, 0.1]], k=2)
    0.5
    """
    return _score_matrix_metric("recall", y_query, y_gallery, scores, _check_k(k, False), block_size)


def ndcg_at_k(y_query, y_gallery, scores, *, k, block_size=None):
    """Normalised discounted cumulative gain at ``k`` with binary relevance.

    Equal to :func:`sklearn.metrics.ndcg_score` with ``y_true = (y_query[:,
    None] == y_gallery)``, ties included. Parameters as in
    :func:`mean_average_precision`.

    Examples
    --------
    >>> from skgcrdp.metrics import ndcg_at_k
    >>> round(ndcg_at_k([0], [0, 1, 0], [[0.9, 0.8, 0.1]], k=3), 4)
    0.9197
    """
    return _score_matrix_metric("ndcg", y_query, y_gallery, scores, _check_k(k, False), block_size)


def embedding_retrieval_score(
    Z_query, Z_gallery, y_query, y_gallery, *, metric="map", k=None, similarity="cosine",
    block_size=None,
):
    """Score the retrieval of gallery embeddings by query embeddings with one metric.

    The similarity matrix is built block by block and never held whole.

    Parameters
    ----------
    Z_query : array-like of shape (n_queries, d)
    Z_gallery : array-like of shape (n_gallery, d)
    y_query, y_gallery : array-like
        Classes of queries and gallery items.
    metric : {"map", "precision", "recall", "ndcg"}, default="map"
    k : int, default=None
        Cut-off; required for all but ``"map"``.
    similarity : {"cosine", "dot", "euclidean"}, default="cosine"
        How closeness of a query and a gallery item is measured.
    block_size : int, default=None
        Queries per block.

    Returns
    -------
    score : float

    Examples
    --------
    >>> import numpy as np
    >>> from skgcrdp.metrics import embedding_retrieval_score
    >>> Z = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> embedding_retrieval_score(Z, Z, [0, 1], [0, 1])
    1.0
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}.")
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}.")
    k = _check_k(k, allow_none=metric == "map")
    Z_query = check_array(Z_query, dtype=[np.float64, np.float32], input_name="Z_query")
    Z_gallery = check_array(Z_gallery, dtype=[np.float64, np.float32], input_name="Z_gallery")
    if Z_query.shape[1] != Z_gallery.shape[1]:
        raise ValueError(
            f"Queries have {Z_query.shape[1]} features but the gallery has "
            f"{Z_gallery.shape[1]}: both must live in the same space."
        )
    y_query, y_gallery = column_or_1d(y_query), column_or_1d(y_gallery)
    if y_query.shape[0] != Z_query.shape[0] or y_gallery.shape[0] != Z_gallery.shape[0]:
        raise ValueError("Labels and embeddings must have the same number of rows.")
    if similarity == "cosine":
        Z_query, Z_gallery = _unit_rows(Z_query), _unit_rows(Z_gallery)
        similarity = "dot"
    step = _block_rows(Z_gallery.shape[0], block_size)
    blocks = (
        (
            similarity_matrix(Z_query[i : i + step], Z_gallery, similarity),
            y_query[i : i + step],
        )
        for i in range(0, Z_query.shape[0], step)
    )
    return _mean_over_blocks(metric, k, blocks, y_gallery)


def cross_modal_retrieval_score(
    Z, y, *, metric="map", k=None, direction="both", similarity="cosine",
    block_size=None,
):
    """Score retrieval between the two halves of a paired shared-space embedding.

    Queries are one modality's embeddings of the given pairs, the gallery the
    other modality's; relevance is equality of class.

    Parameters
    ----------
    Z : array-like of shape (n_pairs, 2 * d)
        Image embeddings, then text embeddings.
    y : array-like of shape (n_pairs,)
        Class of each pair.
    metric : {"map", "precision", "recall", "ndcg"}, default="map"
    k : int, default=None
        Cut-off; required for all but ``"map"``.
    direction : {"image_to_text", "text_to_image", "both"}, default="both"
        ``"both"`` is the mean of the two directions.
    similarity : {"cosine", "dot", "euclidean"}, default="cosine"
        How closeness of a query and a gallery item is measured.
    block_size : int, default=None

    Returns
    -------
    score : float

    Examples
    --------
    >>> import numpy as np
    >>> from skgcrdp.metrics import cross_modal_retrieval_score
    >>> Z = np.array([[1.0, 0.0, 0.9, 0.1], [0.0, 1.0, 0.2, 0.8]])
    >>> cross_modal_retrieval_score(Z, [0, 1])
    1.0
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}.")
    Z = check_array(Z, dtype=[np.float64, np.float32], input_name="Z")
    if Z.shape[1] % 2:
        raise ValueError(
            f"Z has {Z.shape[1]} features, an odd number: a shared-space embedding "
            "holds an image half and a text half of equal width."
        )
    d = Z.shape[1] // 2
    # Each direction builds its own blocks: the text->image rows are columns
    # of the image->text matrix, which is never held whole (bounded memory).
    halves = {"image": Z[:, :d], "text": Z[:, d:]}
    pairs = {"image_to_text": ("image", "text"), "text_to_image": ("text", "image")}
    chosen = list(pairs) if direction == "both" else [direction]
    return float(np.mean([
        embedding_retrieval_score(
            halves[q], halves[g], y, y, metric=metric, k=k,
            similarity=similarity, block_size=block_size,
        )
        for q, g in (pairs[c] for c in chosen)
    ]))


class RetrievalScorer:
    """Score an estimator's retrieval as ``(estimator, X, y) -> float``, for ``scoring=``.

    Embeds ``X`` with the fitted estimator (see :func:`~skgcrdp.modalities.shared_space`) and
    scores cross-modal retrieval among the given pairs. Built by
    :func:`make_retrieval_scorer`.
    """

    def __init__(self, metric="map", k=None, direction="both", similarity="cosine"):
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}.")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}.")
        self.metric = metric
        self.k = _check_k(k, allow_none=metric == "map")
        self.direction = direction
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}.")
        self.similarity = similarity

    def __call__(self, estimator, X, y):
        return cross_modal_retrieval_score(
            shared_space(estimator, X), y, metric=self.metric, k=self.k,
            direction=self.direction, similarity=self.similarity,
        )

    def __repr__(self):
        k = "" if self.k is None else f", k={self.k}"
        return f"make_retrieval_scorer({self.metric!r}{k}, direction={self.direction!r})"


def make_retrieval_scorer(metric="map", *, k=None, direction="both", similarity="cosine"):
    """Make a retrieval scorer usable as ``scoring=`` in any sklearn search.

    Parameters
    ----------
    metric : {"map", "precision", "recall", "ndcg"}, default="map"
    k : int, default=None
        Cut-off; required for all but ``"map"``.
    direction : {"image_to_text", "text_to_image", "both"}, default="both"
    similarity : {"cosine", "dot", "euclidean"}, default="cosine"
        How closeness of a query and a gallery item is measured.

    Returns
    -------
    scorer : callable ``(estimator, X, y) -> float``

    Examples
    --------
    >>> from skgcrdp.metrics import make_retrieval_scorer
    >>> make_retrieval_scorer("ndcg", k=10)
    make_retrieval_scorer('ndcg', k=10, direction='both')
    """
    return RetrievalScorer(metric, k, direction, similarity)


#: Mean of image->text and text->image mAP@all, for ``scoring=``.
map_scorer = make_retrieval_scorer("map")
#: Image->text mAP@all, for ``scoring=``.
map_image_to_text_scorer = make_retrieval_scorer("map", direction="image_to_text")
#: Text->image mAP@all, for ``scoring=``.
map_text_to_image_scorer = make_retrieval_scorer("map", direction="text_to_image")
