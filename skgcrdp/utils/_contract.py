"""The cross-modal data contract: one 2-D ``X`` holding [image | text] per pair.

Every estimator of skgcrdp takes a single 2-D array whose first
``n_image_features`` columns are the image features of a pair and whose
remaining columns are its text features. Keeping one ``X`` is what lets the
estimators run inside unmodified scikit-learn tools (``Pipeline``,
``GridSearchCV``, ``clone``...). This module holds the validation shared by
all estimators; :mod:`skgcrdp.modalities` builds and splits such arrays.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

__all__ = [
    "IMAGE_PREFIX",
    "MODALITIES",
    "TEXT_PREFIX",
    "SharedSpaceNamesMixin",
    "check_min_classes",
    "check_modality",
    "check_no_overflow",
    "check_not_a_string",
    "check_preprocess",
    "check_split",
    "resolve_n_image_features",
    "shared_space_names",
    "validate_cross_modal",
    "validate_one_modality",
]

IMAGE_PREFIX = "img__"
TEXT_PREFIX = "txt__"
MODALITIES = ("image", "text")


def _prefixed_split(columns):
    """Number of image columns given by ``img__``/``txt__`` names, else None."""
    names = [str(c) for c in columns]
    is_image = [n.startswith(IMAGE_PREFIX) for n in names]
    is_text = [n.startswith(TEXT_PREFIX) for n in names]
    if not any(is_image) and not any(is_text):
        return None
    unprefixed = [n for n, a, b in zip(names, is_image, is_text) if not (a or b)]
    if unprefixed:
        raise ValueError(
            f"Columns {unprefixed[:5]} carry neither the {IMAGE_PREFIX!r} nor the "
            f"{TEXT_PREFIX!r} prefix: name every column or pass n_image_features."
        )
    n_image = sum(is_image)
    if not all(is_image[:n_image]):
        raise ValueError(
            f"The {IMAGE_PREFIX!r} columns must all come before the "
            f"{TEXT_PREFIX!r} columns; reorder them, e.g. "
            f"X[sorted(X.columns, key=lambda c: not c.startswith({IMAGE_PREFIX!r}))]."
        )
    return n_image


def resolve_n_image_features(X, n_image_features):
    """Return the number of image columns of ``X``.

    The explicit ``n_image_features`` wins; it must agree with column prefixes
    when both are given. Without either, the split cannot be known and an
    error says how to give it.
    """
    columns = getattr(X, "columns", None)
    from_prefix = _prefixed_split(columns) if columns is not None else None
    if n_image_features is None:
        if from_prefix is None:
            raise ValueError(
                "Cannot tell where the image features end: pass "
                "n_image_features=<number of image columns>, or a DataFrame whose "
                f"columns start with {IMAGE_PREFIX!r} and {TEXT_PREFIX!r}."
            )
        return from_prefix
    if from_prefix is not None and from_prefix != n_image_features:
        raise ValueError(
            f"n_image_features={n_image_features} contradicts the column prefixes, "
            f"which give {from_prefix} image columns: the split is given twice."
        )
    return n_image_features


def check_split(n_image_features, n_features):
    """Check that the modality split leaves both modalities at least one column."""
    if (
        isinstance(n_image_features, (bool, np.bool_))
        or not isinstance(n_image_features, numbers.Integral)
    ):
        raise TypeError(
            f"n_image_features must be an int, got {n_image_features!r}."
        )
    if not 0 < n_image_features < n_features:
        raise ValueError(
            f"n_image_features={n_image_features} is outside the feature range: X "
            f"has {n_features} feature(s), and both modalities need at least one "
            "column (0 < n_image_features < n_features)."
        )


def validate_cross_modal(estimator, X, y=None, *, reset, split=None):
    """Validate ``X`` (and ``y``) and return the modality split.

    Parameters
    ----------
    estimator : estimator instance
        Holds ``n_features_in_`` / ``feature_names_in_`` through
        scikit-learn's ``validate_data``.
    X, y : array-like
        The cross-modal input and optional class labels.
    reset : bool
        True in ``fit``: record the number of features and the split.
    split : {"given", "halves"}
        ``"given"``: the split comes from ``estimator.n_image_features`` or the
        column prefixes. ``"halves"``: the image and text halves have equal
        width (the layout every shared-space stage outputs), unless
        ``n_image_features`` says otherwise.

    Returns
    -------
    X : ndarray of float32 or float64
    y : ndarray or None
    n_image_features : int
    """
    n_image_features = getattr(estimator, "n_image_features", None)
    if reset:
        if split == "halves" and n_image_features is None and _prefixed_split(
            getattr(X, "columns", [])
        ) is None:
            n_image = None
        else:
            n_image = resolve_n_image_features(X, n_image_features)
    else:
        n_image = estimator.n_image_features_
    kwargs = dict(dtype=[np.float64, np.float32], reset=reset, ensure_min_samples=1)
    if y is None and not (reset and estimator.__sklearn_tags__().target_tags.required):
        X = validate_data(estimator, X, **kwargs)
    else:
        # With y=None this raises scikit-learn's "requires y" error.
        X, y = validate_data(estimator, X, y, **kwargs)
        with warnings.catch_warnings():
            # One pair per class (K = 1) is the few-shot norm, not a sign of
            # regression targets, which is what this warning suspects.
            warnings.filterwarnings("ignore", message="The number of unique classes is greater")
            check_classification_targets(y)
    if n_image is None:
        if X.shape[1] % 2:
            hint = "; pass n_image_features" if hasattr(estimator, "n_image_features") else ""
            raise ValueError(
                f"X has {X.shape[1]} feature(s), an odd number, so it cannot be an "
                f"[image half | text half] embedding of equal widths{hint}."
            )
        n_image = X.shape[1] // 2
    if reset:
        check_split(n_image, X.shape[1])
    return X, y, n_image


def check_modality(modality):
    """Return ``modality`` if it names one, else raise a clear error."""
    if modality not in MODALITIES:
        raise ValueError(f"modality must be 'image' or 'text', got {modality!r}.")
    return modality


def check_not_a_string(X, modality):
    """Refuse a lone string where a sequence of one modality's inputs is expected.

    Iterated over, a string is a sequence of characters: each would become a
    query of its own. scikit-learn's text vectorizers refuse it the same way.

    Examples
    --------
    >>> from skgcrdp.utils import check_not_a_string
    >>> check_not_a_string("an open book", "text")
    Traceback (most recent call last):
    ...
    ValueError: Iterable over text inputs expected, str object received: ...
    """
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"Iterable over {modality} inputs expected, {type(X).__name__} object received: "
            f"wrap a single input in a list, e.g. [{X!r}]."
        )
    return X


def validate_one_modality(estimator, X, modality):
    """Validate features of one modality alone against what ``fit`` saw."""
    check_modality(modality)
    X = check_array(X, dtype=[np.float64, np.float32], input_name="X")
    expected = (
        estimator.n_image_features_
        if modality == "image"
        else estimator.n_features_in_ - estimator.n_image_features_
    )
    if X.shape[1] != expected:
        raise ValueError(
            f"X has {X.shape[1]} feature(s), but {type(estimator).__name__} was "
            f"fitted with {expected} {modality} feature(s)."
        )
    return X


def check_min_classes(y, n_min=2):
    """Raise when ``y`` holds fewer classes than retrieval needs."""
    classes = np.unique(y)
    if classes.size < n_min:
        raise ValueError(
            f"y holds {classes.size} class(es); cross-modal training needs at least "
            f"{n_min} classes so that some pairs are negatives of each other."
        )
    return classes


def check_preprocess(preprocess, n_image_features=None):
    """Check a preprocessing step for the front of a pipeline; give it the raw split if it lacks one.

    It must transform each modality on its own (``transform_modality``), or
    the pipeline could not embed a gallery or queries of one modality. A
    step without its own ``n_image_features`` gets a clone with the raw
    ``X``'s, so the caller's object is left as it was.
    """
    if not hasattr(preprocess, "transform_modality"):
        raise TypeError(
            f"preprocess must transform each modality on its own (a ModalityTransformer), "
            f"got {type(preprocess).__name__}; without transform_modality the pipeline "
            "could not embed a gallery or queries of one modality."
        )
    if n_image_features is not None and getattr(preprocess, "n_image_features", 0) is None:
        return clone(preprocess).set_params(n_image_features=n_image_features)
    return preprocess


def check_no_overflow(X, input_name="X"):
    """Raise when the squares of ``X``'s values overflow, so that it cannot be standardised.

    Standardising sums squares over the samples; values near the top of the
    float range make that sum infinite and the result NaN, which later
    steps would report as "contains NaN". This says what happened instead.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    input_name : str, default="X"
        How the error names ``X``.

    Returns
    -------
    X : ndarray
        Unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from skgcrdp.utils import check_no_overflow
    >>> check_no_overflow(np.array([[1e308, 0.0], [0.0, 1.0]]))
    Traceback (most recent call last):
    ...
    ValueError: X holds values up to 1e+308: ...
    """
    X = np.asarray(X)
    if X.size == 0 or X.dtype.kind != "f":
        return X
    largest = float(np.abs(X).max())
    limit = float(np.sqrt(np.finfo(np.float64).max / max(1, X.shape[0])))
    if largest > limit:
        raise ValueError(
            f"{input_name} holds values up to {largest:.3g}: their squares overflow float64, "
            f"so it cannot be standardised (at most about {limit:.3g} for {X.shape[0]} samples). "
            "Rescale its features first, e.g. divide each by its largest absolute value."
        )
    return X


def shared_space_names(width, stem="z"):
    """Names of a shared space's outputs: ``img__z0..`` then ``txt__z0..``, ``width`` of each.

    The prefixes carry the modality split to the next stage, as the data
    contract asks of every stage that outputs ``[image half | text half]``.

    Examples
    --------
    >>> from skgcrdp.utils import shared_space_names
    >>> shared_space_names(2).tolist()
    ['img__z0', 'img__z1', 'txt__z0', 'txt__z1']
    """
    return np.asarray([f"{IMAGE_PREFIX}{stem}{i}" for i in range(width)]
                      + [f"{TEXT_PREFIX}{stem}{i}" for i in range(width)], dtype=object)


class SharedSpaceNamesMixin:
    """``get_feature_names_out`` for a stage whose output is ``[image half | text half]``.

    The stage sets ``embedding_dim_``, the width of each half, in ``fit``; the
    names carry the modality split to the next stage (and to ``set_output``).
    """

    def get_feature_names_out(self, input_features=None):
        """Output names ``img__z0..`` then ``txt__z0..``, so later stages can find the split.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the output is a shared space, not a selection of inputs.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        return shared_space_names(self.embedding_dim_)
