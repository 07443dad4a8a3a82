"""Every exception and warning that skgcrdp raises of its own."""

__all__ = ["InterruptedFitWarning", "LostShardError", "ModelFileError", "NonFiniteLossError"]


class InterruptedFitWarning(UserWarning):
    """Training stopped early (e.g. Ctrl-C); the model is usable but undertrained."""


class NonFiniteLossError(FloatingPointError):
    """Training stopped because the loss became NaN or infinite."""


class ModelFileError(ValueError):
    """Raised when :func:`skgcrdp.load` refuses a model file; nothing from it was built."""


class LostShardError(RuntimeError):
    """Shards of a gallery held on Dask workers could not be had back after a worker was lost."""
