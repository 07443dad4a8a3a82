"""Read the shipped data files: the arrays, column names, and a frame or a Bunch."""

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils import IMAGE_PREFIX, TEXT_PREFIX

__all__ = ["feature_names", "load_arrays", "package_result"]


def load_arrays(filename):
    """The arrays of a shipped ``.npz`` file (never unpickled)."""
    with resources.files(__package__).joinpath("data", filename).open("rb") as f:
        return dict(np.load(f, allow_pickle=False))


def feature_names(image_stem, n_image, text_stem, n_text):
    """``img__<image_stem>0 ... txt__<text_stem>0 ...``: the split travels with the columns."""
    return np.asarray(
        [f"{IMAGE_PREFIX}{image_stem}{i}" for i in range(n_image)]
        + [f"{TEXT_PREFIX}{text_stem}{i}" for i in range(n_text)],
        dtype=object,
    )


def package_result(X, y, feature_names, *, target_name, return_X_y, as_frame, **fields):
    """The loaders' return value: ``(X, y)`` or a Bunch, with arrays or pandas objects.

    ``fields`` are further Bunch entries (``target_names``, ``DESCR``, ...).
    """
    frame = None
    if as_frame:
        X = pd.DataFrame(X, columns=feature_names)
        y = pd.Series(y, name=target_name)
        frame = pd.concat([X, y], axis=1)
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, frame=frame, feature_names=feature_names, **fields)
