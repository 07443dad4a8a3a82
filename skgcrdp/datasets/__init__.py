"""Data sets: the embedded benchmarks (Wikipedia, Open Clip Art) and a synthetic generator."""

from ._openclipart import load_openclipart
from ._synthetic import make_multimodal_classification
from ._wikipedia import load_wikipedia

__all__ = ["load_openclipart", "load_wikipedia", "make_multimodal_classification"]
