"""The GCRDP pipeline and one-modality embedding with a fitted pipeline."""

import functools

from sklearn.pipeline import Pipeline

from ._dask import is_dask_array, map_rows
from ._data import check_modality
from ._steps import transforming_steps
from .alignment import RelativeDistanceAligner
from .gmm import GMMFeatureExtractor
from .preprocessing import check_preprocess
from .retrieval import CrossModalRetriever


def make_gcrdp_pipeline(n_image_features=None, *, preprocess=None, random_state=None,
                        device="auto", **params):
    """Build the GCRDP pipeline: extractor, aligner and retriever.

    Parameters
    ----------
    n_image_features : int, default=None
        Number of image columns of ``X``; None takes the split from
        ``img__``/``txt__`` DataFrame columns (or from ``preprocess``).
    preprocess : ModalityTransformer, default=None
        Per-modality preprocessing, put first as step ``"pre"``; its output
        names the split, so the trained stages need no ``n_image_features``.
        ``n_image_features`` (if given) is then the split of the raw ``X``
        and goes to ``preprocess`` when that has none of its own.
    random_state : int, RandomState instance or None, default=None
        Passed to both trained stages.
    device : str, default="auto"
        Torch device of both trained stages.
    **params
        Step parameters in ``Pipeline`` form, e.g. ``extract__max_epochs=20``
        or ``align__rdp_weight=0.5``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"extract"`` (:class:`GMMFeatureExtractor`), ``"align"``
        (:class:`RelativeDistanceAligner`) and ``"retrieve"``
        (:class:`CrossModalRetriever`), after ``"pre"`` when ``preprocess``
        is given.

    Examples
    --------
    >>> from skgcrdp import make_gcrdp_pipeline
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_classes=4, random_state=0)
    >>> pipe = make_gcrdp_pipeline(20, random_state=0, extract__max_epochs=5,
    ...                            align__max_epochs=2)
    >>> 0 <= pipe.fit(X, y).score(X, y) <= 1
    True
    """
    steps = []
    if preprocess is not None:
        steps.append(("pre", check_preprocess(preprocess, n_image_features)))
        n_image_features = None
    steps += [
        ("extract", GMMFeatureExtractor(n_image_features, random_state=random_state, device=device)),
        ("align", RelativeDistanceAligner(random_state=random_state, device=device)),
        ("retrieve", CrossModalRetriever()),
    ]
    return Pipeline(steps).set_params(**params)


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
    check_modality(modality)
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
