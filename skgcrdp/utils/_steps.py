"""Walk the steps of a fitted estimator or Pipeline that transform.

A leaf of the package: :mod:`skgcrdp.modalities` embeds through it, and it
imports none of the stages.
"""

from sklearn.pipeline import Pipeline

__all__ = ["transforming_steps"]


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
