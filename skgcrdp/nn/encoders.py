"""Modality encoders: one small network per modality into a shared space."""

from torch import nn
from torch.nn import functional as F

__all__ = ["MLP", "ModalityHeads"]


class MLP(nn.Sequential):
    """Feed-forward network ``in -> [hidden -> ReLU -> dropout] * n -> out``.

    With ``n_hidden_layers=0`` it is a single linear map.
    """

    def __init__(self, n_in, n_out, hidden_dim=512, n_hidden_layers=1, dropout=0.2):
        layers = []
        width = n_in
        for _ in range(n_hidden_layers):
            layers += [nn.Linear(width, hidden_dim), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_dim
        layers.append(nn.Linear(width, n_out))
        super().__init__(*layers)


class ModalityHeads(nn.Module):
    """An image network and a text network whose outputs share one space.

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
