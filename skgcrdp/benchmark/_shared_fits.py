"""Fit once what several rows of an episode share.

Within one episode every method trains on the same seen pairs, and several
rows contain the same fit: "GCRDP w/o alignment" is GCRDP's extractor,
"GCRDP + profiles" fits GCRDP on all seen pairs and on the same inner splits
as "chosen by CV", and so on. :class:`FitMemo` keeps each fitted estimator
under a hash of its parameters and its training data, so that the second
row to need a fit takes the first one's. The fits are deterministic (seeded),
so a shared fit is the very model the row would have fitted itself: the
scores are those of separate fits. A row's reported fit time adds back the
time of the fits it took from the memo, so that it stays the time the row's
method needs on its own.
"""

import time

import joblib
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .. import embed_modality
from ..union import SharedSpaceUnion
from ._selection import ChosenByCV

__all__ = ["FitMemo", "Memoized", "fit_sharing"]


def _is_passthrough(step):
    return step is None or (isinstance(step, str) and step == "passthrough")


class FitMemo:
    """Fitted estimators of one episode, keyed by their parameters and training data.

    ``saved_seconds`` adds up the fit time of every fit taken from the memo
    rather than fitted again.
    """

    def __init__(self):
        self._fitted = {}
        self.saved_seconds = 0.0

    def __deepcopy__(self, memo):
        # ``clone`` deep-copies parameters that are not estimators; the memo
        # must stay one object for its clones to share their fits.
        return self

    def _get(self, key, fit):
        """``fit()``'s result, made once per ``key``."""
        if key in self._fitted:
            result, seconds = self._fitted[key]
            self.saved_seconds += seconds
            return result
        start = time.perf_counter()
        result = fit()
        self._fitted[key] = (result, time.perf_counter() - start)
        return result

    def fit(self, estimator, X, y):
        """``clone(estimator).fit(X, y)``, or the same fit made before.

        A ``Pipeline`` is fitted step by step, each prefix of its steps kept
        on its own, so that pipelines that begin alike (an extractor with or
        without an aligner after it) share the steps they have in common.
        """
        if not isinstance(estimator, Pipeline):
            return self._get(joblib.hash((estimator, X, y)), lambda: clone(estimator).fit(X, y))
        fitted, Xt = [], X
        for i, (name, step) in enumerate(estimator.steps):
            if _is_passthrough(step):
                fitted.append((name, step))
                continue
            last = i == len(estimator.steps) - 1

            def fit_step(step=step, Xt=Xt, last=last):
                model = clone(step)
                if last:
                    return model.fit(Xt, y), None
                return model, model.fit_transform(Xt, y)

            model, Xt = self._get(joblib.hash((estimator.steps[: i + 1], X, y)), fit_step)
            fitted.append((name, model))
        return Pipeline(fitted)


class Memoized(TransformerMixin, BaseEstimator):
    """An embedder whose fits go through a :class:`FitMemo`; transforms as the fitted one."""

    def __init__(self, estimator, memo):
        self.estimator = estimator
        self.memo = memo

    def fit(self, X, y):
        self.fitted_ = self.memo.fit(self.estimator, X, y)
        return self

    def transform(self, X):
        check_is_fitted(self)
        return self.fitted_.transform(X)

    def transform_modality(self, X, modality):
        check_is_fitted(self)
        # A memoized pipeline is a plain Pipeline, which embeds one modality
        # through embed_modality.
        return embed_modality(self.fitted_, X, modality)


def fit_sharing(estimator, X, y, memo):
    """``estimator`` fitted on ``(X, y)``, every fit it makes that another row makes too shared.

    A union fits its members, and "chosen by CV" its candidates, on inner
    splits and then on all pairs: those are fitted through ``memo``, and so
    is any other estimator as a whole.
    """
    if isinstance(estimator, SharedSpaceUnion):
        estimator = clone(estimator).set_params(**{
            name: Memoized(member, memo) for name, member in estimator.transformer_list})
    elif isinstance(estimator, ChosenByCV):
        estimator = clone(estimator).set_params(candidates={
            name: Memoized(candidate, memo) for name, candidate in estimator.candidates.items()})
    else:
        return memo.fit(estimator, X, y)
    return estimator.fit(X, y)
