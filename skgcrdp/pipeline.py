"""The GCRDP pipeline and one-modality embedding with a fitted pipeline."""

import functools

from sklearn.pipeline import Pipeline

from ._dask import is_dask_array, map_rows
from ._data import check_modality
from ._steps import transforming_steps
from .alignment import RelativeDistanceAligner
from .baselines import RelativeProfileEmbedder
from .gmm import GMMFeatureExtractor
from .preprocessing import check_preprocess
from .retrieval import CrossModalRetriever
from .union import SharedSpaceUnion


# Relative profiles beside the learned space: softmax(cosine / 0.2) over the
# anchors was the best profile on both embedded data sets (docs/user_guide/benchmark.md);
# 2048 anchors bound the output width on large training sets.
PROFILE_TEMPERATURE = 0.2
PROFILE_MAX_ANCHORS = 2048
_LEARNED_STEPS = ("extract", "align")


def make_gcrdp_pipeline(n_image_features=None, *, preprocess=None, random_state=None,
                        device="auto", relative_profiles=None, **params):
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
    relative_profiles : "auto", float or None, default=None
        Put relative profiles over the training pairs
        (:class:`~skgcrdp.baselines.RelativeProfileEmbedder`, softmax at
        temperature 0.2, at most 2048 anchors) beside the learned shared
        space, in a :class:`~skgcrdp.union.SharedSpaceUnion`: the retrieval
        score becomes GCRDP's cosine plus ``w`` times the profiles' cosine.
        A float is ``w``; ``"auto"`` chooses ``w`` from (0, 0.5, 1, 2) by a
        5-split class-disjoint CV inside the training classes (the fit then
        takes about 4 times as long). None: the learned space alone.
    **params
        Step parameters in ``Pipeline`` form, e.g. ``extract__max_epochs=20``
        or ``align__rdp_weight=0.5``; with relative profiles they are routed
        to the learned member for you, and ``profiles__...`` to the profiles.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"extract"`` (:class:`GMMFeatureExtractor`), ``"align"``
        (:class:`RelativeDistanceAligner`) and ``"retrieve"``
        (:class:`CrossModalRetriever`), after ``"pre"`` when ``preprocess``
        is given. With ``relative_profiles``, ``"extract"`` and ``"align"``
        sit in the union's ``"gcrdp"`` member, and the steps are ``"embed"``
        (the union) and ``"retrieve"``: ``extract__max_epochs`` is then
        ``embed__gcrdp__extract__max_epochs`` for ``set_params``.

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
    learned = [
        ("extract", GMMFeatureExtractor(n_image_features, random_state=random_state, device=device)),
        ("align", RelativeDistanceAligner(random_state=random_state, device=device)),
    ]
    if relative_profiles is None:
        steps += [*learned, ("retrieve", CrossModalRetriever())]
        return Pipeline(steps).set_params(**params)
    union = _profile_union("gcrdp", Pipeline(learned), n_image_features, relative_profiles,
                           random_state)
    steps += [("embed", union), ("retrieve", CrossModalRetriever())]
    return Pipeline(steps).set_params(**_route_to_union(params))


def _profile_union(name, member, n_image_features, weight, random_state):
    """``member`` (named ``name``) beside relative profiles, in a :class:`SharedSpaceUnion`."""
    if weight != "auto" and not (isinstance(weight, (int, float)) and weight >= 0):
        raise ValueError(
            f'relative_profiles must be "auto", a weight >= 0 or None, got {weight!r}.'
        )
    profiles = RelativeProfileEmbedder(
        n_image_features, temperature=PROFILE_TEMPERATURE,
        max_anchors=PROFILE_MAX_ANCHORS, random_state=random_state,
    )
    return SharedSpaceUnion(
        [(name, member), ("profiles", profiles)],
        weights="auto" if weight == "auto" else {"profiles": float(weight)},
        random_state=random_state,
    )


def _route_to_union(params):
    """``extract__x`` becomes ``embed__gcrdp__extract__x``; ``profiles__x``, ``embed__profiles__x``."""
    routed = {}
    for key, value in params.items():
        head = key.split("__", 1)[0]
        if head in _LEARNED_STEPS:
            key = f"embed__gcrdp__{key}"
        elif head == "profiles":
            key = f"embed__{key}"
        routed[key] = value
    return routed


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
