"""skgcrdp: few-shot cross-modal retrieval with GCRDP, the scikit-learn way.

The data flow, one module each: ``encoders`` (pretrained models for raw
pictures and sentences) and ``preprocessing`` (the per-modality front
stage) -> ``extraction`` (the GMM extractor) -> ``alignment`` (the RDP
aligner) -> ``retrieval`` (search) -> ``metrics`` (scores); ``pipeline``
puts the stages together and ``modalities`` stacks, splits and embeds the
two modalities. Around them: ``profiles`` and ``union`` (relative profiles
and several shared spaces side by side), ``model_selection``,
``datasets``, ``persistence``, ``baselines`` (methods to compare with),
``benchmark``; ``utils`` holds what the stages share, for developers.
"""

from ._version import __version__ as __version__
from .alignment import RelativeDistanceAligner
from .extraction import GMMFeatureExtractor
from .modalities import embed_modality, split_modalities, stack_modalities
from .persistence import load, save
from .pipeline import gcrdp_params, make_gcrdp_pipeline
from .preprocessing import ModalityTransformer
from .retrieval import CrossModalRetriever

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
