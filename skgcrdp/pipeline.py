"""The GCRDP pipeline and one-modality embedding with a fitted pipeline."""

from sklearn.pipeline import Pipeline

from ._data import check_modality
from ._steps import transforming_steps
from .alignment import RelativeDistanceAligner
from .gmm import GMMFeatureExtractor
from .retrieval import CrossModalRetriever


def make_gcrdp_pipeline(n_image_features=None, *, random_state=None, device="auto", **params):
    """Build the GCRDP pipeline: extractor, aligner and retriever.

    Parameters
    ----------
    n_image_features : int, default=None
        Number of image columns of ``X``; None takes the split from
        ``img__``/``txt__`` DataFrame columns.
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
        (:class:`CrossModalRetriever`).

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
    pipeline = Pipeline([
        ("extract", GMMFeatureExtractor(n_image_features, random_state=random_state, device=device)),
        ("align", RelativeDistanceAligner(random_state=random_state, device=device)),
        ("retrieve", CrossModalRetriever()),
    ])
    return pipeline.set_params(**params)


def embed_modality(estimator, X, modality):
    """Embed features of one modality alone with a fitted estimator or pipeline.

    Every transforming step must offer ``transform_modality`` (the skgcrdp
    stages do); a final step without ``transform`` (the retriever) is skipped.
    The result equals the ``modality`` half of the paired embedding, so a
    gallery embedded today can be searched by queries embedded tomorrow.

    Parameters
    ----------
    estimator : fitted Pipeline or skgcrdp transformer
    X : array-like of shape (n_samples, n_features_of_that_modality)
    modality : {"image", "text"}

    Returns
    -------
    Z : ndarray of shape (n_samples, d)

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
    Z = X
    for name, step in transforming_steps(estimator):
        if not hasattr(step, "transform_modality"):
            raise TypeError(
                f"Step {name!r} ({type(step).__name__}) transforms paired data only; "
                "one modality cannot go through it. Put per-modality preprocessing "
                "inside the skgcrdp stages (e.g. standardize=True) instead."
            )
        Z = step.transform_modality(Z, modality)
    return Z
