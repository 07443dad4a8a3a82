"""What the embedders fitted in closed form share: standardise each modality, fit, embed."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from .utils import (
    SharedSpaceNamesMixin,
    check_modality,
    check_no_overflow,
    rows_in_parallel,
    validate_cross_modal,
    validate_one_modality,
)
from .utils._compat import Interval

__all__ = ["PairedEmbedder"]


class PairedEmbedder(SharedSpaceNamesMixin, TransformerMixin, BaseEstimator):
    """Standardise each modality, fit ``_fit_views``, embed with ``_embed``."""

    # Subclasses add their own parameters to these.
    _parameter_constraints = {
        "n_image_features": [Interval(Integral, 1, None, closed="left"), None],
    }

    def fit(self, X, y=None):
        """Fit on paired data.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Image features, then text features.
        y : array-like of shape (n_pairs,), default=None
            Ignored; accepted for Pipeline compatibility.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X, _, n_image = validate_cross_modal(self, X, reset=True, split="given")
        self.n_image_features_ = n_image
        check_no_overflow(X, "X")
        self.scalers_ = {
            "image": StandardScaler().fit(X[:, :n_image]),
            "text": StandardScaler().fit(X[:, n_image:]),
        }
        self._fit_views(self._scaled(X[:, :n_image], "image"), self._scaled(X[:, n_image:], "text"))
        self.embedding_dim_ = self._embed(X[:1, :n_image], "image").shape[1]
        return self

    def _scaled(self, X, modality):
        return self.scalers_[modality].transform(X)

    @rows_in_parallel
    def transform(self, X):
        """Embed paired data as ``[image half | text half]``."""
        check_is_fitted(self)
        X, _, n = validate_cross_modal(self, X, reset=False)
        return np.hstack([self._embed(X[:, :n], "image"), self._embed(X[:, n:], "text")])

    @rows_in_parallel
    def transform_modality(self, X, modality):
        """Embed features of one modality alone (``"image"`` or ``"text"``)."""
        check_is_fitted(self)
        return self._embed(validate_one_modality(self, X, modality), check_modality(modality))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
