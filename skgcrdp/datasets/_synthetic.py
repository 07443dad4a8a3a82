"""Synthetic paired two-modality data with several peaks per class."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_multimodal_classification"]


def make_multimodal_classification(
    n_classes=5,
    n_pairs_per_class=50,
    *,
    n_modes_per_class=3,
    n_image_features=20,
    n_text_features=15,
    n_latent=8,
    class_sep=3.0,
    mode_sep=1.5,
    noise=0.5,
    random_state=None,
):
    """Generate paired image/text features whose classes have several modes.

    Each class owns ``n_modes_per_class`` centres in a shared latent space
    (the peaks a few samples cannot reveal on their own). A pair draws a
    latent point around one of its class's modes; the image features are a
    non-linear map of it and the text features another, each with its own
    noise, so the two modalities agree on the content but not on the
    geometry.

    Parameters
    ----------
    n_classes : int, default=5
        Number of classes.
    n_pairs_per_class : int, default=50
        Pairs per class.
    n_modes_per_class : int, default=3
        Modes (peaks) per class in the latent space.
    n_image_features, n_text_features : int, default=20, 15
        Widths of the two modalities.
    n_latent : int, default=8
        Dimension of the latent space.
    class_sep : float, default=3.0
        Spread of the class centres.
    mode_sep : float, default=1.5
        Spread of each class's modes around its centre.
    noise : float, default=0.5
        Standard deviation of each modality's own noise.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    X : ndarray of shape (n_classes * n_pairs_per_class, n_image_features + n_text_features)
        Image features, then text features.
    y : ndarray of shape (n_classes * n_pairs_per_class,)
        Class of each pair.

    Examples
    --------
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_classes=3, n_pairs_per_class=10,
    ...                                       random_state=0)
    >>> X.shape, y.shape
    ((30, 35), (30,))
    """
    rng = check_random_state(random_state)
    centres = rng.normal(scale=class_sep, size=(n_classes, 1, n_latent))
    modes = centres + rng.normal(scale=mode_sep, size=(n_classes, n_modes_per_class, n_latent))
    y = np.repeat(np.arange(n_classes), n_pairs_per_class)
    mode_of = rng.randint(n_modes_per_class, size=y.shape[0])
    latent = modes[y, mode_of] + rng.normal(scale=0.5, size=(y.shape[0], n_latent))

    image_map = rng.normal(size=(n_latent, n_image_features)) / np.sqrt(n_latent)
    text_map = rng.normal(size=(n_latent, n_text_features)) / np.sqrt(n_latent)
    X_image = np.tanh(latent @ image_map) + rng.normal(scale=noise, size=(y.shape[0], n_image_features))
    X_text = latent @ text_map + rng.normal(scale=noise, size=(y.shape[0], n_text_features))
    order = rng.permutation(y.shape[0])
    return np.hstack([X_image, X_text])[order], y[order]
