"""Modality towers: one small trained network per modality into a shared space."""

from torch import nn
from torch.nn import functional as F

__all__ = ["MLP", "ModalityHeads", "SharedLayerHeads"]


def _hidden_layers(n_in, hidden_dim, n_hidden_layers, dropout):
    """``[Linear -> ReLU -> Dropout] * n_hidden_layers`` from width ``n_in``."""
    layers, width = [], n_in
    for _ in range(n_hidden_layers):
        layers += [nn.Linear(width, hidden_dim), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden_dim
    return layers


class MLP(nn.Sequential):
    """Feed-forward network ``in -> [hidden -> ReLU -> dropout] * n -> out``.

    With ``n_hidden_layers=0`` it is a single linear map.
    """

    def __init__(self, n_in, n_out, hidden_dim=512, n_hidden_layers=1, dropout=0.2):
        width = hidden_dim if n_hidden_layers else n_in
        super().__init__(*_hidden_layers(n_in, hidden_dim, n_hidden_layers, dropout),
                         nn.Linear(width, n_out))


class ModalityHeads(nn.Module):
    """Map images and texts into one space, each through a network of its own.

    The forward pass takes ``image`` and ``text`` batches and returns the
    pair of embeddings; either may be None to embed one modality alone.

    Parameters
    ----------
    n_image_features, n_text_features : int
        Input widths of the two modalities.
    embedding_dim : int
        Width of the shared space.
    hidden_dim, n_hidden_layers, dropout
        Shape of each modality's :class:`MLP`.
    residual : bool, default=False
        Add the input to the output (only where the input width equals
        ``embedding_dim``), with the last layer started at zero, so that the
        heads begin as the identity map and learn a correction to it.
    normalize : bool, default=True
        L2-normalise the outputs, so that dot products are cosine similarities.
    """

    def __init__(
        self,
        n_image_features,
        n_text_features,
        embedding_dim=64,
        hidden_dim=512,
        n_hidden_layers=1,
        dropout=0.2,
        residual=False,
        normalize=True,
    ):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.image = MLP(n_image_features, embedding_dim, hidden_dim, n_hidden_layers, dropout)
        self.text = MLP(n_text_features, embedding_dim, hidden_dim, n_hidden_layers, dropout)
        self.normalize = normalize
        self.residual = {
            "image": residual and n_image_features == embedding_dim,
            "text": residual and n_text_features == embedding_dim,
        }
        for name, net in (("image", self.image), ("text", self.text)):
            if self.residual[name]:
                nn.init.zeros_(net[-1].weight)
                nn.init.zeros_(net[-1].bias)

    def embed(self, x, modality):
        """Embed a batch of one modality (``"image"`` or ``"text"``)."""
        z = getattr(self, modality)(x)
        if self.residual[modality]:
            z = z + x
        return F.normalize(z, dim=1) if self.normalize else z

    def forward(self, image=None, text=None):
        """Embed a batch of images, of texts, or of both (a pair per row).

        Parameters
        ----------
        image, text : torch.Tensor of shape (batch, width of that modality) or None

        Returns
        -------
        z_image, z_text : torch.Tensor of shape (batch, embedding_dim) or None
            None where that modality was not given.
        """
        z_image = None if image is None else self.embed(image, "image")
        z_text = None if text is None else self.embed(text, "text")
        return z_image, z_text


class SharedLayerHeads(nn.Module):
    """Modality networks whose last layer is one shared layer, and a label classifier (DSCMR).

    Each modality has its own hidden layers; their outputs go through one
    linear layer both modalities share, into the common space, and a linear
    classifier on the common space predicts the label from either modality
    (Zhen et al., CVPR 2019). Retrieval uses the common space: the
    classifier knows only the classes it was trained on.

    Parameters
    ----------
    n_image_features, n_text_features : int
        Input widths of the two modalities.
    n_classes : int
        Width of the label space.
    embedding_dim : int, default=1024
        Width of the common space.
    hidden_dim : int, default=2048
        Width of each modality's hidden layers.
    n_hidden_layers : int, default=1
        Hidden layers per modality, at least 1: they bring both modalities to
        the width the shared layer takes.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    """

    def __init__(self, n_image_features, n_text_features, n_classes, embedding_dim=1024,
                 hidden_dim=2048, n_hidden_layers=1, dropout=0.0):
        super().__init__()
        if n_hidden_layers < 1:
            raise ValueError("SharedLayerHeads needs at least one hidden layer per modality.")
        self.embedding_dim = embedding_dim
        self.image = nn.Sequential(*_hidden_layers(n_image_features, hidden_dim, n_hidden_layers,
                                                   dropout))
        self.text = nn.Sequential(*_hidden_layers(n_text_features, hidden_dim, n_hidden_layers,
                                                  dropout))
        self.shared = nn.Linear(hidden_dim, embedding_dim)
        self.classifier = nn.Linear(embedding_dim, n_classes)

    def embed(self, x, modality):
        """Common-space representation of a batch of one modality (not normalised)."""
        return self.shared(getattr(self, modality)(x))

    def forward(self, image=None, text=None):
        """Common-space representations and label predictions of a batch of pairs.

        Returns
        -------
        z_image, z_text, labels_image, labels_text : torch.Tensor or None
            The representations, of shape (batch, embedding_dim), and the
            classifier's outputs on them, of shape (batch, n_classes); None
            where that modality was not given.
        """
        z_image = None if image is None else self.embed(image, "image")
        z_text = None if text is None else self.embed(text, "text")
        return (z_image, z_text,
                None if z_image is None else self.classifier(z_image),
                None if z_text is None else self.classifier(z_text))
