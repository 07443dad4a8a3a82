"""Walking the steps of a fitted estimator or Pipeline: paired and one-modality embedding.

A leaf of the package: the pipeline factory, the union of shared spaces and
the scorers all walk pipelines through it, and it imports none of them.
"""

import functools

from sklearn.pipeline import Pipeline

from ._contract import check_modality, check_not_a_string
from ._dask import is_dask_array, map_rows

__all__ = ["embed_modality", "shared_space", "transforming_steps"]


def transforming_steps(estimator, prefix=""):
    """Yield ``(name, step)`` for each step of ``estimator`` that transforms.

    A Pipeline is walked step by step, nested Pipelines included;
    ``None``/``"passthrough"`` steps and steps without ``transform`` (a final
    retriever) are skipped. Any other estimator is its own single step.

    Parameters
    ----------
    estimator : estimator or Pipeline
    prefix : str, default=""
        Put before the step names, joined by ``"__"``.

    Yields
    ------
    name : str
        The step's name in ``set_params`` form (``"outer__inner"``).
    step : estimator

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgcrdp import CrossModalRetriever
    >>> from skgcrdp.utils import transforming_steps
    >>> pipe = make_pipeline(StandardScaler(), CrossModalRetriever())
    >>> [name for name, _ in transforming_steps(pipe)]
    ['standardscaler']
    """
    if not isinstance(estimator, Pipeline):
        if hasattr(estimator, "transform"):
            yield prefix, estimator
        return
    for name, step in estimator.steps:
        if step is None or step == "passthrough":
            continue
        yield from transforming_steps(step, f"{prefix}__{name}" if prefix else name)


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
