"""Plain torch parts of GCRDP: encoders and losses, free of scikit-learn."""

from .encoders import MLP, ModalityHeads, SharedLayerHeads
from .losses import (
    DSCMRLoss,
    MultiPositiveContrastiveLoss,
    RelativeDistanceLoss,
    diagonal_gmm_responsibilities,
    dscmr_loss,
    multi_positive_contrastive_loss,
    relative_distance_loss,
)

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
