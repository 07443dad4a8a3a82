"""Deprecated: the extract step moved to :mod:`skgcrdp.extraction` in 0.2 (removed in 0.3)."""

import warnings

__all__ = []


def __getattr__(name):
    if name == "GMMFeatureExtractor":
        from .extraction import GMMFeatureExtractor

        warnings.warn(
            "skgcrdp.gmm was renamed skgcrdp.extraction in 0.2; import GMMFeatureExtractor "
            "from skgcrdp (or skgcrdp.extraction). The old path will be removed in 0.3.",
            FutureWarning, stacklevel=2,
        )
        return GMMFeatureExtractor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
