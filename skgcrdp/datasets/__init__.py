"""Data sets: the embedded Wikipedia benchmark and a synthetic generator."""

from ._synthetic import make_multimodal_classification
from ._wikipedia import load_wikipedia

__all__ = ["load_wikipedia", "make_multimodal_classification"]
