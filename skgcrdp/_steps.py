"""Walking the steps of a fitted estimator or Pipeline."""

from sklearn.pipeline import Pipeline


def transforming_steps(estimator, prefix=""):
    """Yield ``(name, step)`` for each step of ``estimator`` that transforms.

    A Pipeline is walked step by step, nested Pipelines included;
    ``None``/``"passthrough"`` steps and steps without ``transform`` (a final
    retriever) are skipped. Any other estimator is its own single step.
    """
    if not isinstance(estimator, Pipeline):
        if hasattr(estimator, "transform"):
            yield prefix, estimator
        return
    for name, step in estimator.steps:
        if step is None or step == "passthrough":
            continue
        yield from transforming_steps(step, f"{prefix}__{name}" if prefix else name)
