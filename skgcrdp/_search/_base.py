"""What every search backend offers the retriever: one small interface."""

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

    def __len__(self):
        return self.shape[0]

    def search(self, queries, k):
        """Scores (higher is closer) and row indices of each query's ``k`` best items, best first.

        Ties keep the lower index first, as a stable sort of the full row would.
        """
        raise NotImplementedError
