"""Model selection as a row of the benchmark: the method class-disjoint CV chooses."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .. import embed_modality
from ..retrieval import CrossModalRetriever

__all__ = ["ChosenByCV"]


class ChosenByCV(TransformerMixin, BaseEstimator):
    """The candidate embedder that class-disjoint ``GridSearchCV`` on the training pairs chooses.

    Each candidate is scored, with a :class:`~skgcrdp.CrossModalRetriever`
    behind it, on held-out *classes* of the training pairs; the best is
    refitted on all of them. Nothing else takes part in the choice.

    Parameters
    ----------
    candidates : dict of str to estimator
        Shared-space embedders by name.
    cv : splitter
        Class-disjoint splits of the training pairs.
    """

    def __init__(self, candidates, cv):
        self.candidates = candidates
        self.cv = cv

    def fit(self, X, y):
        names = list(self.candidates)
        search = GridSearchCV(
            Pipeline([("embed", self.candidates[names[0]]), ("retrieve", CrossModalRetriever())]),
            {"embed": list(self.candidates.values())}, cv=self.cv, error_score=np.nan,
        ).fit(X, y)
        self.chosen_ = names[search.best_index_]
        self.cv_results_ = search.cv_results_
        self.embedder_ = search.best_estimator_[0]
        return self

    def transform(self, X):
        check_is_fitted(self)
        return self.embedder_.transform(X)

    def transform_modality(self, X, modality):
        """Embed one modality alone with the chosen embedder."""
        check_is_fitted(self)
        return embed_modality(self.embedder_, X, modality)
