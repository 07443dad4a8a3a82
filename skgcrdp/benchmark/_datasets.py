"""Data sets the benchmark runs on: the embedded one or a user's file."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import load_openclipart, load_wikipedia
from ..utils import check_split

__all__ = ["EMBEDDED", "OPENCLIPART", "WIKIPEDIA", "BenchmarkData", "load_benchmark_data"]

WIKIPEDIA = "wikipedia"
OPENCLIPART = "openclipart"


@dataclass(frozen=True)
class BenchmarkData:
    """Paired features ``X = [image | text]``, labels ``y`` and the split.

    ``name`` is for tables; ``key`` is how ``--data`` names it (an embedded
    set's name, or the file's path); ``class_names`` holds the name of class
    ``i`` at position ``i`` where the labels are class indices with names
    (the embedded sets), and is empty otherwise.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    n_image_features: int
    key: str = ""
    class_names: tuple = ()

    @property
    def n_text_features(self):
        return self.X.shape[1] - self.n_image_features


def _embedded(load, name, key):
    def build():
        data = load()
        return BenchmarkData(name, np.asarray(data.data), data.target, data.n_image_features, key,
                             tuple(str(n) for n in data.target_names))

    return build


# Class-disjoint episodes per K that the benchmark runs unless told: fewer for
# the larger Open Clip Art set keeps the default run (both embedded sets, three
# K) within five minutes on two cores.
DEFAULT_EPISODES = 10
EPISODES_BY_DATA = {OPENCLIPART: 5}


def default_episodes(data):
    """Return the number of episodes per K the benchmark runs on ``data`` by default.

    Parameters
    ----------
    data : BenchmarkData
        A data set from :func:`load_benchmark_data`.

    Returns
    -------
    n_episodes : int

    Examples
    --------
    >>> from skgcrdp.benchmark import default_episodes, load_benchmark_data
    >>> default_episodes(load_benchmark_data("wikipedia"))
    10
    """
    return EPISODES_BY_DATA.get(data.key, DEFAULT_EPISODES)


# The data sets that ship with skgcrdp, by the name --data takes.
EMBEDDED = {
    WIKIPEDIA: _embedded(load_wikipedia, "Wikipedia (Rasiwasia et al., 2010)", WIKIPEDIA),
    OPENCLIPART: _embedded(load_openclipart, "Open Clip Art (EfficientNet-Lite0 + MiniLM)",
                           OPENCLIPART),
}


def load_benchmark_data(source=WIKIPEDIA, label_column="label"):
    """Load an embedded data set or a user's ``.npz`` or ``.csv`` file.

    Parameters
    ----------
    source : str or path, default="wikipedia"
        ``"wikipedia"`` or ``"openclipart"``: a benchmark that ships with
        skgcrdp (see :mod:`skgcrdp.datasets`). A ``.npz`` file must hold
        arrays ``X`` (image columns first), ``y`` and ``n_image_features``.
        A ``.csv`` file must hold image columns named ``img__*``, text
        columns named ``txt__*`` and a label column.
    label_column : str, default="label"
        Name of the label column of a CSV file.

    Returns
    -------
    data : BenchmarkData
    """
    if str(source) in EMBEDDED:
        return EMBEDDED[str(source)]()
    path = Path(source)
    if not path.is_file():
        names = " or ".join(repr(name) for name in EMBEDDED)
        raise FileNotFoundError(
            f"No data set {str(source)!r}: give {names} or the path of a .npz or .csv file."
        )
    suffix = path.suffix.lower()
    if suffix == ".npz":
        X, y, n_image = _from_npz(path)
    elif suffix == ".csv":
        X, y, n_image = _from_csv(path, label_column)
    else:
        raise ValueError(f"{path} is neither a .npz nor a .csv file.")
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{path}: X must be 2-D and y 1-D with one label per row; got X {X.shape}, y {y.shape}."
        )
    check_split(n_image, X.shape[1])
    return BenchmarkData(path.name, X, y, n_image, str(path))


def _from_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        missing = {"X", "y", "n_image_features"} - set(archive.files)
        if missing:
            raise ValueError(
                f"{path} lacks the arrays {sorted(missing)}; it must hold X, y and n_image_features."
            )
        return archive["X"], archive["y"], int(archive["n_image_features"])


def _from_csv(path, label_column):
    frame = pd.read_csv(path)
    if label_column not in frame.columns:
        raise ValueError(f"{path} has no label column {label_column!r} (see --label-column).")
    image = [c for c in frame.columns if str(c).startswith("img__")]
    text = [c for c in frame.columns if str(c).startswith("txt__")]
    other = [c for c in frame.columns if c not in image and c not in text and c != label_column]
    if not image or not text or other:
        raise ValueError(
            f"{path}: besides {label_column!r}, every column must be named img__* (image) or "
            f"txt__* (text); found {len(image)} image, {len(text)} text and other columns "
            f"{other[:5]}."
        )
    X = frame[image + text].to_numpy(dtype=np.float64)
    return X, frame[label_column].to_numpy(), len(image)
