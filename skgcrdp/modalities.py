"""Work with the two modalities of paired data: stack, split, and embed them.

Every estimator of skgcrdp takes one 2-D ``X`` whose first columns are the
image features of a pair and whose other columns are its text features
(the :doc:`data contract </user_guide/data_contract>`). :func:`stack_modalities` and
:func:`split_modalities` build and split such arrays; :func:`shared_space`
embeds paired data through a fitted pipeline, and :func:`embed_modality`
embeds one modality alone, for a gallery or queries without partners.
"""

import functools

import numpy as np
from sklearn.utils.validation import check_array

from .utils import (
    check_modality,
    check_not_a_string,
    check_split,
    is_dask_array,
    map_rows,
    resolve_n_image_features,
    transforming_steps,
)

__all__ = ["embed_modality", "shared_space", "split_modalities", "stack_modalities"]


def stack_modalities(X_image, X_text):
    """Put image and text features of the same pairs side by side.

    Parameters
    ----------
    X_image : array-like of shape (n_pairs, n_image_features)
        Image features, one row per pair.
    X_text : array-like of shape (n_pairs, n_text_features)
        Text features of the same pairs, in the same order.

    Returns
    -------
    X : ndarray of shape (n_pairs, n_image_features + n_text_features)
        The cross-modal array expected by every skgcrdp estimator.

    See Also
    --------
    split_modalities : The inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skgcrdp import stack_modalities
    >>> stack_modalities(np.ones((2, 3)), np.zeros((2, 1))).shape
    (2, 4)
    """
    X_image = check_array(X_image, dtype=None, input_name="X_image")
    X_text = check_array(X_text, dtype=None, input_name="X_text")
    if X_image.shape[0] != X_text.shape[0]:
        raise ValueError(
            f"X_image has {X_image.shape[0]} rows but X_text has "
            f"{X_text.shape[0]}: the two modalities must hold the same pairs."
        )
    return np.hstack([X_image, X_text])


def split_modalities(X, n_image_features=None):
    """Split a cross-modal array into its image and text blocks.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_pairs, n_features)
        Image features first, then text features.
    n_image_features : int, default=None
        Number of image columns. If None, ``X`` must be a DataFrame whose
        columns carry the ``img__`` / ``txt__`` prefixes.

    Returns
    -------
    X_image : ndarray of shape (n_pairs, n_image_features)
    X_text : ndarray of shape (n_pairs, n_features - n_image_features)

    Examples
    --------
    >>> import numpy as np
    >>> from skgcrdp import split_modalities
    >>> X_image, X_text = split_modalities(np.arange(8).reshape(2, 4), 3)
    >>> X_image.shape, X_text.shape
    ((2, 3), (2, 1))
    """
    n_image = resolve_n_image_features(X, n_image_features)
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D cross-modal array, got {X.ndim}-D.")
    check_split(n_image, X.shape[1])
    return X[:, :n_image], X[:, n_image:]


def shared_space(estimator, X):
    """Embed paired ``X`` with a fitted estimator up to the shared space.

    A Pipeline is run through every step that transforms; a final retriever
    (anything without ``transform``) receives the embedding as it is.

    Parameters
    ----------
    estimator : fitted Pipeline or transformer
    X : array-like of shape (n_pairs, n_features)
        Paired input, as the estimator was fitted on.

    Returns
    -------
    Z : ndarray of shape (n_pairs, 2 * d)
        Image half, then text half.
    """
    Z = X
    for _, step in transforming_steps(estimator):
        Z = step.transform(Z)
    return Z


def embed_modality(estimator, X, modality):
    """Embed features of one modality alone with a fitted estimator or pipeline.

    Every transforming step must offer ``transform_modality`` (the skgcrdp
    stages do); a final step without ``transform`` (the retriever) is skipped.
    The result equals the ``modality`` half of the paired embedding, so a
    gallery embedded today can be searched by queries embedded tomorrow.

    Parameters
    ----------
    estimator : fitted Pipeline or skgcrdp transformer
    X : array-like or dask array of shape (n_samples, n_features_of_that_modality)
        A dask array is embedded lazily, chunk of rows by chunk of rows, on
        the dask workers (the fitted estimator is sent to each once).
    modality : {"image", "text"}

    Returns
    -------
    Z : ndarray of shape (n_samples, d), or a dask array for a dask ``X``

    Examples
    --------
    >>> from skgcrdp import embed_modality, make_gcrdp_pipeline
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_classes=4, random_state=0)
    >>> pipe = make_gcrdp_pipeline(20, random_state=0, extract__max_epochs=2,
    ...                            align__max_epochs=1).fit(X, y)
    >>> embed_modality(pipe, X[:, 20:], "text").shape
    (200, 64)
    """
    check_not_a_string(X, check_modality(modality))
    if is_dask_array(X):
        # The whole pipeline goes to each worker once; chunks of rows are
        # embedded where they lie, and a dask array comes back.
        return map_rows(functools.partial(_embed_block, modality), estimator, X)
    Z = X
    for name, step in transforming_steps(estimator):
        if not hasattr(step, "transform_modality"):
            raise TypeError(
                f"Step {name!r} ({type(step).__name__}) transforms paired data only; "
                "one modality cannot go through it. Put per-modality preprocessing "
                "in a skgcrdp.ModalityTransformer instead (e.g. "
                "ModalityTransformer(image=PCA(32), text=TfidfVectorizer()))."
            )
        Z = step.transform_modality(Z, modality)
    return Z


def _embed_block(modality, estimator, block):
    return embed_modality(estimator, block, modality)
