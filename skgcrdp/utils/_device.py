"""Torch devices as the estimators' ``device`` parameter names them."""

import torch

__all__ = ["resolve_device"]


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when a GPU is visible, else ``"cpu"``.

    Parameters
    ----------
    device : str
        ``"auto"`` or a torch device string (``"cpu"``, ``"cuda:1"``...).

    Returns
    -------
    device : str
        What torch takes as a device; never ``"auto"``.

    Examples
    --------
    >>> from skgcrdp.utils import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
