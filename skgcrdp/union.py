"""Several shared spaces side by side, weighted by class-disjoint CV: :class:`SharedSpaceUnion`.

:func:`make_profile_union` puts relative profiles beside any shared space,
as ``make_gcrdp_pipeline(relative_profiles=...)`` does for GCRDP.
"""

import itertools
from numbers import Integral, Real

import numpy as np
from sklearn.base import TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .metrics import cross_modal_retrieval_score
from .modalities import embed_modality
from .model_selection import ClassDisjointSplit
from .profiles import RelativeProfileEmbedder
from .utils import check_modality, normalize_rows, rows_in_parallel
from .utils._compat import BaseComposition, Interval, StrOptions, safe_indexing

__all__ = ["SharedSpaceUnion", "make_profile_union"]

# Relative profiles beside a learned space: softmax(cosine / 0.2) over the
# anchors was the best profile on both embedded data sets (docs/user_guide/benchmark.md);
# 2048 anchors bound the output width on large training sets.
PROFILE_TEMPERATURE = 0.2
PROFILE_MAX_ANCHORS = 2048


def _unit_halves(Z):
    """The image and text halves of a shared-space output, each row of unit length."""
    half = Z.shape[1] // 2
    return normalize_rows(Z[:, :half]), normalize_rows(Z[:, half:])


def _weighted(blocks, weights):
    """Unit-row blocks side by side, each times the root of its weight; weight 0 left out.

    Every row of the result has length ``sqrt(sum of weights)``, so its cosine
    with another row is the weighted mean of the blocks' cosines.
    """
    return np.hstack([np.sqrt(w) * block for block, w in zip(blocks, weights) if w > 0])


def _side_by_side(halves_per_member, weights):
    """``[image blocks | text blocks]`` of the members' unit halves, weighted."""
    return np.hstack([_weighted([halves[side] for halves in halves_per_member], weights)
                      for side in (0, 1)])


class SharedSpaceUnion(TransformerMixin, BaseComposition):
    """Put the shared spaces of several embedders side by side, per modality.

    Each transformer maps the same paired ``X = [image | text]`` to its own
    shared space ``[image half | text half]``. The union L2-normalises every
    half and multiplies it by the square root of its transformer's weight,
    then puts the image halves together and the text halves together. The
    cosine between an image and a text of the union is therefore the
    weighted sum of the transformers' cosines (divided by the sum of the
    weights), so the union ranks by a weighted vote of its members while
    keeping the one-``X`` layout that :class:`~skgcrdp.CrossModalRetriever`
    and :func:`~skgcrdp.embed_modality` expect.

    With ``weights="auto"`` the first transformer keeps weight 1 and each
    other transformer's weight is chosen from ``weight_grid`` by an inner
    class-disjoint cross-validation inside ``fit``: the training classes are
    split ``cv`` times into classes to fit on and held-out classes to
    retrieve among, every member is fitted once per split, and the weights
    with the highest mean cross-modal mAP (both directions) on the held-out
    classes win. Nothing outside the training data is looked at, so this is
    legitimate inside an outer few-shot episode.

    Parameters
    ----------
    transformer_list : list of (str, estimator) tuples
        Shared-space embedders (e.g. a GCRDP ``Pipeline`` without its
        retriever, :class:`~skgcrdp.profiles.RelativeProfileEmbedder`).
    weights : dict of str to float, "auto" or None, default=None
        Weight of each transformer; None gives every transformer weight 1;
        names left out of a dict get 1. A transformer of weight 0 is left
        out of the output and not fitted on all of ``X``.
    weight_grid : tuple of float, default=(0, 0.5, 1, 2)
        Candidate weights of the non-first transformers for ``"auto"``.
    cv : int or splitter, default=5
        Inner splits for ``"auto"``. An int draws that many
        :class:`~skgcrdp.model_selection.ClassDisjointSplit` splits holding
        out half of the classes.
    random_state : int, RandomState instance or None, default=None
        Seeds the inner splits of an int ``cv``.

    Attributes
    ----------
    transformers_ : list of (str, estimator or "drop") tuples
        The members fitted on all of ``X``; ``"drop"`` for a member of weight 0.
    weights_ : dict of str to float
        The weights used by ``transform``.
    embedding_dims_ : dict of str to int
        Width of each kept member's half, in output order.
    cv_results_ : dict or None
        For ``"auto"``: ``"weights"`` (one dict per candidate),
        ``"split_scores"`` of shape (n_candidates, n_splits), ``"mean_score"``
        and ``"std_score"``. None otherwise.
    n_features_in_ : int
        Number of features seen during fit.

    See Also
    --------
    sklearn.pipeline.FeatureUnion : The same idea for single-modality features.

    Examples
    --------
    >>> from skgcrdp.baselines import RandomProjectionEmbedder
    >>> from skgcrdp.profiles import RelativeProfileEmbedder
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> from skgcrdp.union import SharedSpaceUnion
    >>> X, y = make_multimodal_classification(n_classes=8, random_state=0)
    >>> union = SharedSpaceUnion(
    ...     [("chance", RandomProjectionEmbedder(20, random_state=0)),
    ...      ("profiles", RelativeProfileEmbedder(20))],
    ...     weights="auto", cv=3, random_state=0).fit(X, y)
    >>> union.weights_["profiles"] > 0      # the informative member gets a say
    True
    """

    _parameter_constraints = {
        "transformer_list": [list],
        "weights": [dict, StrOptions({"auto"}), None],
        "weight_grid": [tuple, list],
        "cv": [Interval(Integral, 2, None, closed="left"), "cv_object"],
        "random_state": ["random_state"],
    }

    def __init__(self, transformer_list, *, weights=None, weight_grid=(0, 0.5, 1, 2), cv=5,
                 random_state=None):
        self.transformer_list = transformer_list
        self.weights = weights
        self.weight_grid = weight_grid
        self.cv = cv
        self.random_state = random_state

    def get_params(self, deep=True):
        return self._get_params("transformer_list", deep=deep)

    def set_params(self, **params):
        self._set_params("transformer_list", **params)
        return self

    def __setstate__(self, state):
        super().__setstate__(state)
        # A restored union (pickle, joblib, skgcrdp.load) weighs its members as fit left them.
        weights = getattr(self, "weights_", None)
        if weights is not None and not (isinstance(weights, dict) and all(
                isinstance(w, Real) and np.isfinite(w) and w >= 0 for w in weights.values())):
            raise ValueError("SharedSpaceUnion was restored with weights_ that are not finite "
                             "weights >= 0.")

    def _check_members(self):
        if not self.transformer_list:
            raise ValueError("transformer_list is empty; give at least one (name, estimator).")
        names = [name for name, _ in self.transformer_list]
        self._validate_names(names)
        if isinstance(self.weights, dict):
            unknown = sorted(set(self.weights) - set(names))
            if unknown:
                raise ValueError(f"weights name unknown transformers {unknown}; they are {names}.")
            negative = {k: w for k, w in self.weights.items() if not w >= 0}
            if negative:
                raise ValueError(f"weights must be >= 0, got {negative}.")
            if all(self.weights.get(name, 1.0) == 0 for name in names):
                raise ValueError("weights are all 0; give at least one transformer a weight > 0.")
        if self.weights == "auto":
            grid = np.asarray(self.weight_grid, dtype=float)
            if grid.ndim != 1 or grid.size == 0 or not np.all(grid >= 0):
                raise ValueError(
                    f"weight_grid must be a non-empty list of weights >= 0, got {self.weight_grid!r}."
                )
        return names

    def _candidates(self, names):
        """Every weight assignment ``"auto"`` tries: the first member at 1, the others on the grid."""
        grid = [float(w) for w in self.weight_grid]
        return [dict(zip(names, (1.0, *rest)))
                for rest in itertools.product(grid, repeat=len(names) - 1)]

    def _inner_splits(self, X, y):
        cv = self.cv
        if isinstance(cv, Integral):
            cv = ClassDisjointSplit(cv, test_size=0.5, random_state=self.random_state)
        try:
            return list(cv.split(X, y))
        except ValueError as error:
            raise ValueError(
                f'weights="auto" chooses the weights on held-out classes, and cannot here: '
                f"{error} Give the weights instead."
            ) from error

    def _choose_weights(self, X, y, names):
        candidates = self._candidates(names)
        splits = self._inner_splits(X, y)
        scores = np.empty((len(candidates), len(splits)))
        for j, (fit_rows, val_rows) in enumerate(splits):
            X_fit, X_val = safe_indexing(X, fit_rows), safe_indexing(X, val_rows)
            blocks = [
                _unit_halves(clone(est).fit(X_fit, y[fit_rows]).transform(X_val))
                for _, est in self.transformer_list
            ]
            for i, weights in enumerate(candidates):
                Z = _side_by_side(blocks, [weights[n] for n in names])
                scores[i, j] = cross_modal_retrieval_score(Z, y[val_rows])
        mean = scores.mean(axis=1)
        # Ties go to the earliest candidate: the smallest weights of the grid's order.
        best = int(np.argmax(mean))
        self.cv_results_ = {
            "weights": candidates,
            "split_scores": scores,
            "mean_score": mean,
            "std_score": scores.std(axis=1),
        }
        return candidates[best]

    def fit(self, X, y):
        """Fit every member (and, for ``weights="auto"``, choose the weights first).

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Paired features, as every member expects them.
        y : array-like of shape (n_pairs,)
            Class of each pair.

        Returns
        -------
        self : object
        """
        self._validate_params()
        names = self._check_members()
        if y is None:
            raise ValueError("SharedSpaceUnion requires y to be passed, but the target y is None.")
        y = column_or_1d(y, warn=True)
        self.cv_results_ = None
        if self.weights == "auto":
            weights = self._choose_weights(X, y, names)
        else:
            weights = {name: 1.0 for name in names}
            weights.update(self.weights or {})
        self.weights_ = {name: float(weights[name]) for name in names}
        self.transformers_ = [
            (name, clone(est).fit(X, y) if self.weights_[name] > 0 else "drop")
            for name, est in self.transformer_list
        ]
        first = next(est for _, est in self.transformers_ if est != "drop")
        for attribute in ("n_features_in_", "feature_names_in_"):
            if hasattr(first, attribute):
                setattr(self, attribute, getattr(first, attribute))
        # One row shows each member's width; a frame keeps its column names.
        one_row = safe_indexing(X, [0]) if hasattr(X, "iloc") else np.asarray(X)[:1]
        self.embedding_dims_ = {name: est.transform(one_row).shape[1] // 2
                                for name, est in self.transformers_ if est != "drop"}
        return self

    def _kept(self):
        """The fitted members of weight > 0 and their weights."""
        kept = [(est, self.weights_[name]) for name, est in self.transformers_ if est != "drop"]
        return [est for est, _ in kept], [w for _, w in kept]

    @rows_in_parallel
    def transform(self, X):
        """Embed paired data as ``[image blocks | text blocks]``, weighted unit halves."""
        check_is_fitted(self)
        members, weights = self._kept()
        return _side_by_side([_unit_halves(est.transform(X)) for est in members], weights)

    def get_feature_names_out(self, input_features=None):
        """Output names: ``img__<member>_z..`` of every kept member, then their ``txt__`` names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the output is made of the members' shared spaces.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        names = {side: [f"{side}__{member}_z{i}" for member, width in self.embedding_dims_.items()
                        for i in range(width)] for side in ("img", "txt")}
        return np.asarray(names["img"] + names["txt"], dtype=object)

    @rows_in_parallel
    def transform_modality(self, X, modality):
        """Embed features of one modality alone: each member's half, weighted, side by side."""
        check_is_fitted(self)
        check_modality(modality)
        members, weights = self._kept()
        return _weighted(
            [normalize_rows(np.asarray(embed_modality(est, X, modality))) for est in members],
            weights,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def check_profile_weight(weight, name):
    """``weight`` if it is ``"auto"`` or a finite number >= 0 (not a bool), else a clear error."""
    if isinstance(weight, bool) or not (
        (isinstance(weight, str) and weight == "auto")
        or (isinstance(weight, Real) and np.isfinite(weight) and weight >= 0)
    ):
        raise ValueError(f'{name} must be "auto", a finite number >= 0 or None, got {weight!r}.')
    return weight


def make_profile_union(name, member, n_image_features=None, *, weight="auto", random_state=None):
    """``member`` beside relative profiles over the training pairs, in a :class:`SharedSpaceUnion`.

    The profiles are softmax relative profiles
    (:class:`~skgcrdp.profiles.RelativeProfileEmbedder`, temperature 0.2,
    at most 2048 anchors); retrieval in the union scores ``member``'s cosine
    plus ``weight`` times the profiles' cosine.

    Parameters
    ----------
    name : str
        Name of ``member`` in the union (``"profiles"`` names the profiles).
    member : estimator
        A shared-space embedder: fit on paired ``X``, transform to
        ``[image half | text half]`` (e.g. a GCRDP Pipeline without its
        retriever, or a :class:`~skgcrdp.baselines.CrossDecompositionEmbedder`).
    n_image_features : int, default=None
        Number of image columns of ``X``, for the profiles; None reads
        ``img__``/``txt__`` column prefixes.
    weight : "auto" or float, default="auto"
        Weight of the profiles, a finite number >= 0; ``"auto"`` chooses it
        from (0, 0.5, 1, 2) by a 5-split class-disjoint CV inside the
        training classes.
    random_state : int, RandomState instance or None, default=None
        Seeds the anchors' draw and the inner splits.

    Returns
    -------
    union : SharedSpaceUnion

    Examples
    --------
    >>> from skgcrdp.baselines import CrossDecompositionEmbedder
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> from skgcrdp.union import make_profile_union
    >>> X, y = make_multimodal_classification(n_classes=4, random_state=0)
    >>> union = make_profile_union("pls", CrossDecompositionEmbedder(20), 20, weight=1.0)
    >>> union.fit(X, y).transform(X).shape[0]
    200
    """
    check_profile_weight(weight, "weight")
    profiles = RelativeProfileEmbedder(
        n_image_features, temperature=PROFILE_TEMPERATURE,
        max_anchors=PROFILE_MAX_ANCHORS, random_state=random_state,
    )
    return SharedSpaceUnion(
        [(name, member), ("profiles", profiles)],
        weights="auto" if weight == "auto" else {"profiles": float(weight)},
        random_state=random_state,
    )
