"""Utilities for developers: the data contract's checks, pipeline walking, kernels, dask helpers.

What the estimators of skgcrdp share, for anyone writing a stage of their
own that should behave like them (as ``sklearn.utils`` is for scikit-learn).
Users of the estimators need none of it.
"""

from ._contract import (
    IMAGE_PREFIX,
    MODALITIES,
    TEXT_PREFIX,
    check_min_classes,
    check_modality,
    check_no_overflow,
    check_preprocess,
    check_split,
    resolve_n_image_features,
    shared_space_names,
    split_modalities,
    stack_modalities,
    validate_cross_modal,
    validate_one_modality,
)
from ._dask import dask_client, is_dask_array, map_rows, rows_in_parallel, worker_threads
from ._device import resolve_device
from ._kernels import SIMILARITIES, normalize_rows, overflow_safe, similarity_matrix
from ._steps import embed_modality, shared_space, transforming_steps

__all__ = [
    "IMAGE_PREFIX",
    "MODALITIES",
    "SIMILARITIES",
    "TEXT_PREFIX",
    "check_min_classes",
    "check_modality",
    "check_no_overflow",
    "check_preprocess",
    "check_split",
    "dask_client",
    "embed_modality",
    "is_dask_array",
    "map_rows",
    "normalize_rows",
    "overflow_safe",
    "resolve_device",
    "resolve_n_image_features",
    "rows_in_parallel",
    "shared_space_names",
    "shared_space",
    "similarity_matrix",
    "split_modalities",
    "stack_modalities",
    "transforming_steps",
    "validate_cross_modal",
    "validate_one_modality",
    "worker_threads",
]
