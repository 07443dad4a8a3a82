"""What every search backend offers the retriever: one small interface."""

import numpy as np

__all__ = ["SearchIndex"]


class SearchIndex:
    """One modality's gallery, searched by queries of the other.

    A backend holds the prepared gallery rows (unit rows for cosine) and
    answers :meth:`search`. In-memory backends pickle as plain data, so
    :class:`~skgcrdp.CrossModalRetriever`, pickling and :func:`skgcrdp.save`
    need not know which backend they hold.

    Attributes
    ----------
    similarity : {"cosine", "dot", "euclidean"}
    shape : tuple of int
        ``(n_items, d)``.
    sharded : bool
        True when the rows live on a cluster and not in this process.
    """

    sharded = False

    def _check_rows(self):
        """Rows and similarity as a search needs them (they may come from a file)."""
        from ..utils import SIMILARITIES

        vectors = getattr(self, "vectors", None)
        if not (isinstance(vectors, np.ndarray) and vectors.ndim == 2 and vectors.dtype.kind == "f"):
            raise ValueError(f"{type(self).__name__} needs its gallery rows as a 2-D float array.")
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"{type(self).__name__}: unknown similarity {self.similarity!r}.")

    def __len__(self):
        return self.shape[0]

    def search(self, queries, k):
        """Scores (higher is closer) and row indices of each query's ``k`` best items, best first.

        Ties keep the lower index first, as a stable sort of the full row would.
        """
        raise NotImplementedError
