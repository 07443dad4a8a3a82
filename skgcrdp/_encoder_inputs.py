"""The encoders' inputs as users have them: checked row by row, and read into cache keys.

Every check here runs before any model work, and an error names the row (and
its index label when the input had one) with the path or value at fault.
"""

import io
import math
import os

import numpy as np
import pandas as pd

__all__ = ["as_items", "picture_content", "row_name", "text_content"]


def as_items(X, what):
    """The inputs of a list, Series, 1-D array or one-column frame, with each row's index label."""
    labels = None
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
        if X.shape[1] != 1:
            raise ValueError(f"Expected one column of {what}, got {X.shape[1]} columns.")
        X = X.iloc[:, 0]
    if isinstance(X, (str, bytes)):
        raise TypeError(f"Expected a sequence of {what}, got a single {type(X).__name__}: "
                        "wrap it in a list.")
    if hasattr(X, "index") and hasattr(X, "iloc"):
        labels = list(X.index)
    values = list(X.ravel() if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1
                  else X)
    if not values:
        raise ValueError(f"Expected at least one of {what}, got none.")
    return values, labels


def row_name(row, labels):
    """``row 3``, or ``row 3 (index 'b7')`` when the input's index says otherwise."""
    if labels is None or labels[row] == row:
        return f"row {row}"
    return f"row {row} (index {labels[row]!r})"


def picture_content(item, where, Image):
    """Return the bytes that identify one picture: a file's, or a PIL image's mode, size and pixels.

    A path must be a readable picture file; ``Image.verify`` reads its chunks
    and their checksums without decoding, so a truncated file or one that is
    not a picture is refused here rather than halfway through an encoding run.
    """
    if isinstance(item, Image.Image):
        # The palette and the transparency colour change the RGB picture that
        # load_picture makes of the same indices or pixels.
        header = f"image:{item.mode}:{item.size}:{item.info.get('transparency')!r}:"
        return header.encode() + bytes(item.getpalette() or b"") + b":" + item.tobytes()
    if not isinstance(item, (str, os.PathLike)):
        raise TypeError(f"ImageEncoder takes file paths or PIL images; {where} is {item!r} "
                        f"of type {type(item).__name__}.")
    path = os.fspath(item)
    if os.path.isdir(path):
        raise IsADirectoryError(f"ImageEncoder: {where} names a folder, not a picture file: {path!r}.")
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"ImageEncoder: {where} names no file: {path!r}.") from None
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
    except Exception as error:  # PIL raises several types for damaged files
        raise ValueError(f"ImageEncoder: {where} is not a readable picture (truncated, damaged "
                         f"or not a picture file): {path!r} ({type(error).__name__}: {error}).") from None
    return b"file:" + data


def text_content(value, where):
    """The bytes that identify one text; a missing, empty or non-string value is refused."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"SentenceEncoder: {where} has no text ({value!r}). Fill or drop missing "
                         "captions first.")
    if not isinstance(value, str):
        raise TypeError(f"SentenceEncoder takes str, got {value!r} of type "
                        f"{type(value).__name__} at {where}.")
    if not value.strip():
        raise ValueError(f"SentenceEncoder: {where} is an empty text ({value!r}). Fill or drop "
                         "empty captions first.")
    return value.encode("utf-8", "surrogatepass")
