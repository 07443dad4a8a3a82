"""The one door to scikit-learn's private API.

skgcrdp declares its parameters the way scikit-learn's own estimators do
(``_parameter_constraints``), lets a composite estimator expose its members'
parameters, and selects rows of any container. scikit-learn offers these
only through private modules, which may move between releases; every other
module of skgcrdp takes them from here, so that a move is mended in one place
(imbalanced-learn keeps a module of the same kind).
"""

from sklearn import get_config
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.metaestimators import _BaseComposition

__all__ = [
    "BaseComposition",
    "HasMethods",
    "Hidden",
    "Interval",
    "StrOptions",
    "output_container",
    "safe_indexing",
]

#: Base of estimators made of named sub-estimators (``get_params`` reaches inside).
BaseComposition = _BaseComposition


def safe_indexing(X, indices):
    """Rows ``indices`` of an array, a DataFrame or a list, kept in its own kind."""
    return _safe_indexing(X, indices)


def output_container(method, estimator, default):
    """The container ``set_output`` asks ``estimator.method`` for.

    The estimator's own ``set_output`` choice wins, then scikit-learn's
    global ``transform_output``; where neither chose (both ``"default"`` or
    unset) the answer is ``default``, the estimator's own natural output.
    """
    own = getattr(estimator, "_sklearn_output_config", {}).get(method)
    if own is not None:
        return own
    chosen = get_config()["transform_output"]
    return default if chosen == "default" else chosen
