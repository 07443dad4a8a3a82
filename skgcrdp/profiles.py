"""Relative profiles: a shared space of similarities to anchor pairs, with nothing trained.

:class:`RelativeProfileEmbedder` describes an image by its similarities to
the training images and a text by its similarities to the training texts;
``make_gcrdp_pipeline(relative_profiles=...)`` puts such profiles beside
GCRDP's shared space (:func:`skgcrdp.union.make_profile_union`).
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.utils import check_random_state

from ._paired import PairedEmbedder
from .utils import normalize_rows
from .utils._compat import Interval

__all__ = ["RelativeProfileEmbedder", "centred_profiles"]


def centred_profiles(similarity):
    """Centre rows of similarities to anchors and scale them to unit length.

    The cosine of two such rows is their correlation.
    """
    return normalize_rows(similarity - similarity.mean(axis=1, keepdims=True))


class RelativeProfileEmbedder(PairedEmbedder):
    """Relative profiles over the training pairs: cross-modal retrieval with no training.

    The training pairs are anchors: image ``i`` and text ``i`` describe the
    same thing. An image is described by its cosine similarities to the anchor
    images, a text by its similarities to the anchor texts (each modality
    standardised on the training pairs); both profiles have one coordinate per
    anchor pair, so they can be compared across modalities although no map
    between the modalities is learned. Each profile is centred and scaled to
    unit length, so the cosine of two profiles is their correlation. This is
    relative distance preservation in its plainest form: things are close
    across modalities when they stand in the same relation to the anchors.

    Parameters
    ----------
    n_image_features : int, default=None
        Number of image columns; None reads ``img__``/``txt__`` prefixes.
    temperature : float, default=None
        None: profiles of raw cosine similarities. A positive value passes
        each profile through ``softmax(similarity / temperature)`` first,
        which stresses the nearest anchors.
    max_anchors : int, default=None
        Keep at most this many training pairs as anchors (drawn at random),
        which bounds the output width; None keeps them all.
    random_state : int, RandomState instance or None, default=None
        Draws the anchors when there are more than ``max_anchors``.

    Attributes
    ----------
    anchors_ : dict of str to ndarray of shape (n_anchors, n_modality_features)
        The standardised, unit-length training features of each modality.
    n_image_features_ : int
        Number of image columns.

    See Also
    --------
    CrossDecompositionEmbedder : A learned linear map between the modalities.

    References
    ----------
    L. Moschella, V. Maiorca, M. Fumero, A. Norelli, F. Locatello, E. Rodolà,
    "Relative representations enable zero-shot latent space communication",
    ICLR 2023.

    Examples
    --------
    >>> from skgcrdp.profiles import RelativeProfileEmbedder
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> from skgcrdp.metrics import cross_modal_retrieval_score
    >>> X, y = make_multimodal_classification(random_state=0)
    >>> embedder = RelativeProfileEmbedder(20).fit(X[:150])
    >>> embedder.transform(X[150:]).shape     # one coordinate per anchor pair
    (100, 300)
    >>> bool(cross_modal_retrieval_score(embedder.transform(X[150:]), y[150:]) > 0.5)
    True
    """

    _parameter_constraints = {
        **PairedEmbedder._parameter_constraints,
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
        "max_anchors": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, n_image_features=None, temperature=None, max_anchors=None,
                 random_state=None):
        self.n_image_features = n_image_features
        self.temperature = temperature
        self.max_anchors = max_anchors
        self.random_state = random_state

    def _fit_views(self, A, B):
        if self.max_anchors is not None and len(A) > self.max_anchors:
            rng = check_random_state(self.random_state)
            keep = np.sort(rng.choice(len(A), self.max_anchors, replace=False))
            A, B = A[keep], B[keep]
        self.anchors_ = {"image": normalize_rows(A), "text": normalize_rows(B)}

    def _embed(self, X, modality):
        similarity = normalize_rows(self._scaled(X, modality)) @ self.anchors_[modality].T
        if self.temperature is not None:
            similarity = softmax(similarity / self.temperature, axis=1)
        return centred_profiles(similarity)
