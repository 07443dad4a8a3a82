"""The GCRDP pipeline: :func:`make_gcrdp_pipeline`, and :func:`gcrdp_params` to address its stages."""

from sklearn.pipeline import Pipeline

from .alignment import RelativeDistanceAligner
from .extraction import GMMFeatureExtractor
from .retrieval import CrossModalRetriever
from .union import SharedSpaceUnion, check_profile_weight, make_profile_union
from .utils import check_preprocess

__all__ = ["gcrdp_params", "make_gcrdp_pipeline"]

# Step names in the short form that gcrdp_params routes: the learned stages
# and the profiles of a union.
_LEARNED_STEPS = ("extract", "align")
_PROFILE_STEP = "profiles"


def make_gcrdp_pipeline(n_image_features=None, *, preprocess=None, random_state=None,
                        device="auto", relative_profiles=None, memory=None, **params):
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
        (:class:`~skgcrdp.profiles.RelativeProfileEmbedder`, softmax at
        temperature 0.2, at most 2048 anchors) beside the learned shared
        space, in a :class:`~skgcrdp.union.SharedSpaceUnion`: the retrieval
        score becomes GCRDP's cosine plus ``w`` times the profiles' cosine.
        A finite float >= 0 is ``w``; ``"auto"`` chooses ``w`` from
        (0, 0.5, 1, 2) by a 5-split class-disjoint CV inside the training
        classes (the fit then takes about 4 times as long). None: the learned
        space alone.
    memory : str, path-like or joblib.Memory, default=None
        scikit-learn's ``Pipeline(memory=...)``: where fitted stages are
        cached, keyed by their parameters and input. The encoders of
        :mod:`skgcrdp.encoders` have their own ``memory``, keyed by each
        item's content: a changed picture file behind the same path gets new
        features there, while the pipeline's cache keys on the path.
    **params
        Step parameters in their short form, e.g. ``extract__max_epochs=20``
        or ``align__rdp_weight=0.5`` (and ``profiles__...`` for the
        profiles); see :func:`gcrdp_params`.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"extract"`` (:class:`GMMFeatureExtractor`), ``"align"``
        (:class:`RelativeDistanceAligner`) and ``"retrieve"``
        (:class:`CrossModalRetriever`), after ``"pre"`` when ``preprocess``
        is given. With ``relative_profiles``, ``"extract"`` and ``"align"``
        sit in the union's ``"gcrdp"`` member, and the steps are ``"embed"``
        (the union) and ``"retrieve"``; :func:`gcrdp_params` turns the short
        names (``extract__max_epochs``) into the full ones for either shape.

    See Also
    --------
    gcrdp_params : Address the GCRDP stages whatever the flags.

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
        return Pipeline(steps, memory=memory).set_params(**params)
    check_profile_weight(relative_profiles, "relative_profiles")
    union = make_profile_union("gcrdp", Pipeline(learned), n_image_features,
                               weight=relative_profiles, random_state=random_state)
    steps += [("embed", union), ("retrieve", CrossModalRetriever())]
    pipeline = Pipeline(steps, memory=memory)
    return pipeline.set_params(**gcrdp_params(pipeline, params))


def gcrdp_params(pipeline, params):
    """Full parameter names of the GCRDP stages, whatever flags built ``pipeline``.

    ``make_gcrdp_pipeline`` puts the extractor and the aligner straight in
    the pipeline (``extract__max_epochs``), or, with ``relative_profiles``,
    inside a union beside the profiles
    (``embed__gcrdp__extract__max_epochs``). Give the short names and this
    function returns the names of this pipeline, for ``set_params`` or a
    ``GridSearchCV`` grid; other names (``retrieve__...``, ``pre__...``)
    pass unchanged.

    Parameters
    ----------
    pipeline : Pipeline
        Built by :func:`make_gcrdp_pipeline` (fitted or not).
    params : dict
        ``{short name: value}``: ``extract__...``, ``align__...`` and
        ``profiles__...`` (a union's profiles), and any other step parameter.
        The values are kept as they are, so a grid's lists work too.

    Returns
    -------
    params : dict
        The same values under this pipeline's parameter names.

    Examples
    --------
    >>> from skgcrdp import gcrdp_params, make_gcrdp_pipeline
    >>> grid = {"extract__temperature": [0.2, 0.5], "retrieve__n_neighbors": [5]}
    >>> gcrdp_params(make_gcrdp_pipeline(20), grid)
    {'extract__temperature': [0.2, 0.5], 'retrieve__n_neighbors': [5]}
    >>> gcrdp_params(make_gcrdp_pipeline(20, relative_profiles=1.0), grid)
    {'embed__gcrdp__extract__temperature': [0.2, 0.5], 'retrieve__n_neighbors': [5]}
    """
    steps = dict(pipeline.steps)
    union = steps.get("embed")
    routed = {}
    for key, value in params.items():
        head = key.split("__", 1)[0]
        if isinstance(union, SharedSpaceUnion) and head not in steps:
            members = dict(union.transformer_list)
            if head in _LEARNED_STEPS and "gcrdp" in members:
                key = f"embed__gcrdp__{key}"
            elif head == _PROFILE_STEP and head in members:
                key = f"embed__{key}"
        routed[key] = value
    return routed
