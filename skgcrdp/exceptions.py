"""Warnings and errors that skgcrdp's training raises."""

from ._base import InterruptedFitWarning
from ._training import NonFiniteLossError

__all__ = ["InterruptedFitWarning", "NonFiniteLossError"]
