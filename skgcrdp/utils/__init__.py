"""Utilities for developers: the data contract's checks, pipeline walking, kernels, dask helpers.

What the estimators of skgcrdp share, for anyone writing a stage of their
own that should behave like them (as ``sklearn.utils`` is for scikit-learn).
Users of the estimators need none of it.
"""

from . import _contract, _dask, _device, _kernels, _steps
from ._contract import *  # noqa: F403
from ._dask import *  # noqa: F403
from ._device import *  # noqa: F403
from ._kernels import *  # noqa: F403
from ._steps import *  # noqa: F403

__all__ = sorted([*_contract.__all__, *_dask.__all__, *_device.__all__, *_kernels.__all__,
                  *_steps.__all__])
