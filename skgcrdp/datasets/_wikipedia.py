"""The Wikipedia cross-modal benchmark, shipped inside the package."""


import numpy as np

from ._shipped import feature_names, load_arrays, package_result

__all__ = ["load_wikipedia"]

N_IMAGE_FEATURES = 128
N_TEXT_FEATURES = 10

DESCR = """\
Wikipedia cross-modal data set (features)
-----------------------------------------

2866 image-text pairs from Wikipedia featured articles in 10 categories
(art, biology, geography, history, literature, media, music, royalty, sport,
warfare), with the official split of 2173 training and 693 test pairs.

- image features: 128-bin SIFT bag-of-visual-words histograms (rows sum to 1);
- text features: 10-topic LDA proportions (rows sum to 1).

Source: N. Rasiwasia, J. Costa Pereira, E. Coviello, G. Doyle, G. Lanckriet,
R. Levy, N. Vasconcelos, "A New Approach to Cross-Modal Multimedia
Retrieval", ACM Multimedia 2010. Data from the SVCL lab, UCSD; the authors
ask that users cite the paper.
"""


def load_wikipedia(*, subset="all", return_X_y=False, as_frame=False):
    """Load the Wikipedia image-text benchmark (Rasiwasia et al., 2010).

    The data ship with skgcrdp; nothing is downloaded.

    =================   =======================================
    Pairs               2866 (2173 train + 693 test, official)
    Classes             10
    Features per pair   138: 128 image (SIFT BoW) + 10 text (LDA)
    =================   =======================================

    Parameters
    ----------
    subset : {"all", "train", "test"}, default="all"
        Which part of the official split to return.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame whose columns carry the ``img__``/``txt__``
        prefixes (so no ``n_image_features`` is needed) and ``y`` as a Series.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (X, shape (n_pairs, 138): image features, then text features),
        ``target`` (class 0-9), ``target_names``, ``feature_names``,
        ``n_image_features`` (128), ``is_test`` (official split), ``image_ids``,
        ``text_ids``, ``frame`` (with ``as_frame=True``) and ``DESCR``.
    (X, y) : tuple
        With ``return_X_y=True``.

    References
    ----------
    N. Rasiwasia, J. Costa Pereira, E. Coviello, G. Doyle, G. Lanckriet,
    R. Levy, N. Vasconcelos, "A New Approach to Cross-Modal Multimedia
    Retrieval", ACM Multimedia 2010.

    Examples
    --------
    >>> from skgcrdp.datasets import load_wikipedia
    >>> X, y = load_wikipedia(return_X_y=True)
    >>> X.shape, len(set(y))
    ((2866, 138), 10)
    >>> load_wikipedia(subset="test").data.shape
    (693, 138)
    """
    if subset not in ("all", "train", "test"):
        raise ValueError(f"subset must be 'all', 'train' or 'test', got {subset!r}.")
    raw = load_arrays("wikipedia.npz")
    keep = np.ones(raw["target"].shape[0], dtype=bool)
    if subset != "all":
        keep = raw["is_test"] if subset == "test" else ~raw["is_test"]
    X = np.hstack([raw["image"], raw["text"]])[keep]
    y = raw["target"][keep].astype(np.int64)
    return package_result(
        X,
        y,
        feature_names("sift", N_IMAGE_FEATURES, "topic", N_TEXT_FEATURES),
        target_name="category",
        return_X_y=return_X_y,
        as_frame=as_frame,
        target_names=raw["target_names"],
        n_image_features=N_IMAGE_FEATURES,
        is_test=raw["is_test"][keep],
        image_ids=raw["image_ids"][keep],
        text_ids=raw["text_ids"][keep],
        DESCR=DESCR,
    )
