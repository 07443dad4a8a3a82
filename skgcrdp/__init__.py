"""skgcrdp: few-shot cross-modal retrieval with GCRDP, the scikit-learn way.

The data flow, one module each: ``preprocessing`` (per-modality front
stage) -> ``extraction`` (the GMM extractor) -> ``alignment`` (the RDP
aligner) -> ``retrieval`` (search) -> ``metrics`` (scores); ``pipeline``
puts the stages together. Around them: ``model_selection``, ``datasets``,
``persistence``, ``union`` and ``baselines`` (other shared spaces),
``encoders``, ``benchmark``; ``utils`` holds what the stages share.
"""

from ._version import __version__ as __version__
from .alignment import RelativeDistanceAligner
from .extraction import GMMFeatureExtractor
from .persistence import load, save
from .pipeline import gcrdp_params, make_gcrdp_pipeline
from .preprocessing import ModalityTransformer
from .retrieval import CrossModalRetriever
from .utils import embed_modality, split_modalities, stack_modalities

__all__ = [
    "CrossModalRetriever",
    "GMMFeatureExtractor",
    "ModalityTransformer",
    "RelativeDistanceAligner",
    "embed_modality",
    "gcrdp_params",
    "load",
    "make_gcrdp_pipeline",
    "save",
    "split_modalities",
    "stack_modalities",
]
