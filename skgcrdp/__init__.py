"""skgcrdp: few-shot cross-modal retrieval with GCRDP, the scikit-learn way."""

from ._data import split_modalities, stack_modalities
from .alignment import RelativeDistanceAligner
from .gmm import GMMFeatureExtractor
from .pipeline import embed_modality, make_gcrdp_pipeline
from .persistence import load, save
from .preprocessing import ModalityTransformer
from .retrieval import CrossModalRetriever

__version__ = "0.1.0"

__all__ = [
    "CrossModalRetriever",
    "GMMFeatureExtractor",
    "ModalityTransformer",
    "RelativeDistanceAligner",
    "embed_modality",
    "load",
    "make_gcrdp_pipeline",
    "save",
    "split_modalities",
    "stack_modalities",
]
