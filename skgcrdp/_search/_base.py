"""What every search backend offers the retriever: one small interface."""

import numpy as np

__all__ = ["SearchIndex", "check_state", "count_rest"]


def count_rest(items, shown=3):
    """Name the first ``shown`` of ``items`` and count the rest, for an error message."""
    items = [str(item) for item in items]
    if len(items) <= shown:
        return ", ".join(items)
    return f"{', '.join(items[:shown])} and {len(items) - shown:,} more"


def check_state(owner, state, allowed):
    """Refuse a restored state holding an attribute that ``owner``'s class never sets.

    One rule for every restored object whose state skgcrdp checks: only
    the attributes its constructor and fit set are accepted, so that a
    file cannot smuggle in state that no code path validates.
    """
    if not isinstance(state, dict):
        raise ValueError(f"{type(owner).__name__} was restored from a state that is not a mapping.")
    unknown = sorted(str(key) for key in set(state) - set(allowed))
    if unknown:
        raise ValueError(
            f"{type(owner).__name__} was restored with attributes its class never sets: "
            f"{count_rest(unknown)}."
        )


class SearchIndex:
    """One modality's gallery, searched by queries of the other.

    A backend holds the searchable gallery rows (unit rows for cosine) and
    answers :meth:`search`. In-memory backends pickle as plain data, so
    :class:`~skgcrdp.CrossModalRetriever`, pickling and :func:`skgcrdp.save`
    need not know which backend they hold. A search changes nothing in the
    index, so one index answers concurrent searches from several threads.

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
        """Rows and similarity as fit leaves them (they may come from a file)."""
        from ..utils import SIMILARITIES, overflow_safe

        name = type(self).__name__
        if not (isinstance(self.similarity, str) and self.similarity in SIMILARITIES):
            raise ValueError(f"{name}.similarity must be one of {SIMILARITIES}, got "
                             f"{self.similarity!r:.60}.")
        vectors = getattr(self, "vectors", None)
        if not (isinstance(vectors, np.ndarray) and vectors.ndim == 2
                and vectors.dtype in (np.float32, np.float64)):
            raise ValueError(f"{name}.vectors must hold the gallery rows as a 2-D float32 or "
                             "float64 array.")
        if vectors.shape[0] < 1 or vectors.shape[1] < 1:
            raise ValueError(f"{name}.vectors has shape {vectors.shape}; a gallery holds at least "
                             "one row of at least one feature.")
        if not np.isfinite(vectors).all():
            raise ValueError(f"{name}.vectors holds NaN or infinite values.")
        if self.similarity == "cosine":
            norms = np.linalg.norm(vectors, axis=1)
            if not (np.isclose(norms, 1.0, atol=1e-3) | (norms == 0)).all():
                raise ValueError(f"{name}.vectors must be unit rows (or zero rows) for cosine "
                                 "similarity, as fit stores them.")
        else:
            try:   # the bound fit applies, checked on the largest value alone
                overflow_safe(np.array([np.abs(vectors).max()]))
            except ValueError as exc:
                raise ValueError(f"{name}.vectors: {exc}") from None

    def __len__(self):
        return self.shape[0]

    def search(self, queries, k):
        """Scores (higher is closer) and row indices of each query's ``k`` best items, best first.

        Ties keep the lower index first, as a stable sort of the full row would.
        """
        raise NotImplementedError
