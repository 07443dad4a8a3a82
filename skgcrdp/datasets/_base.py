"""What the embedded data sets' loaders share: arrays, frames or a Bunch."""

import pandas as pd
from sklearn.utils import Bunch


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
