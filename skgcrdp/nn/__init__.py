"""Plain torch parts of GCRDP: encoders and losses, free of scikit-learn."""

from .encoders import MLP, ModalityHeads
from .losses import (
    MultiPositiveContrastiveLoss,
    RelativeDistanceLoss,
    diagonal_gmm_responsibilities,
    multi_positive_contrastive_loss,
    relative_distance_loss,
)

__all__ = [
    "MLP",
    "ModalityHeads",
    "MultiPositiveContrastiveLoss",
    "RelativeDistanceLoss",
    "diagonal_gmm_responsibilities",
    "multi_positive_contrastive_loss",
    "relative_distance_loss",
]
