"""Plain torch parts of GCRDP, free of scikit-learn: the modality towers and the losses."""

from .losses import (
    DSCMRLoss,
    MultiPositiveContrastiveLoss,
    RelativeDistanceLoss,
    diagonal_gmm_responsibilities,
    dscmr_loss,
    multi_positive_contrastive_loss,
    relative_distance_loss,
)
from .towers import MLP, ModalityHeads, SharedLayerHeads

__all__ = [
    "DSCMRLoss",
    "MLP",
    "ModalityHeads",
    "MultiPositiveContrastiveLoss",
    "RelativeDistanceLoss",
    "SharedLayerHeads",
    "diagonal_gmm_responsibilities",
    "dscmr_loss",
    "multi_positive_contrastive_loss",
    "relative_distance_loss",
]
