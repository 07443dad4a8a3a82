"""The retrieve step: cross-modal search in a shared space (:class:`CrossModalRetriever`)."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from ._search import (
    ExactIndex,
    FaissIndex,
    as_searchable,
    build_index,
    check_index_params,
    check_state,
    count_rest,
)
from .metrics import cross_modal_retrieval_score
from .utils import check_modality, is_dask_array, validate_cross_modal
from .utils._compat import Interval, StrOptions

__all__ = ["CrossModalRetriever"]

OTHER = {"image": "text", "text": "image"}
# What fit and fit_gallery set, beside the parameters: a restored state may
# hold these and nothing else.
FITTED_STATE = {"n_features_in_", "n_image_features_", "feature_names_in_", "indexes_",
                "gallery_labels_", "_sklearn_version"}


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _check_labels(labels, n_items, name, refuse):
    """Gallery labels as fit stores them: a 1-D array, one finite label per gallery item."""
    if not isinstance(labels, np.ndarray) or labels.ndim != 1:
        refuse(f"{name} that is not a 1-D array")
    if labels.shape[0] != n_items:
        refuse(f"{name} of {labels.shape[0]} labels for a gallery of {n_items} items")
    if labels.dtype.kind not in "biufUO":
        refuse(f"{name} of dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        refuse(f"{name} holding NaN or infinite labels")
    if labels.dtype.kind == "O":
        kinds = sorted({type(label).__name__ for label in labels
                        if not isinstance(label, (str, Integral))})
        if kinds:
            refuse(f"{name} holding labels of type {count_rest(kinds)}")


class CrossModalRetriever(BaseEstimator):
    """Search the gallery of one modality with queries of the other.

    ``fit`` stores the image and text embeddings of the gallery pairs (the
    output of a shared-space stage, ``[image half | text half]``).
    :meth:`kneighbors` returns the nearest gallery items of the other
    modality, :meth:`predict` the class of the nearest one, and
    :meth:`score` the mean of image->text and text->image mAP@all among the
    pairs it is given, so that ``GridSearchCV`` needs no ``scoring=``.

    The default search is exact: blocks of queries against tiles of the
    gallery, each query keeping its best ``k`` so far, so memory stays
    bounded by the block size, never ``n_queries x n_gallery``, and the
    cost is close to that of the matrix products (docs/user_guide/performance.md).
    ``algorithm="faiss"`` searches an approximate inverted-file index
    instead, for very large galleries.

    Searches (:meth:`kneighbors`, :meth:`predict`, :meth:`score`) change
    nothing in the retriever, so one fitted retriever may answer several
    threads at once. A fitted state restored by pickle, joblib or
    :func:`skgcrdp.load` is checked as ``fit`` would leave it.

    Parameters
    ----------
    n_neighbors : int, default=10
        Default number of neighbours of :meth:`kneighbors`.
    similarity : {"cosine", "dot", "euclidean"}, default="cosine"
        How closeness is measured.
    query_modality : {"image", "text"}, default="image"
        Default modality of the queries of :meth:`kneighbors` and
        :meth:`predict`; the gallery is the other modality.
    block_size : int, default=None
        Queries per block of the exact search; None uses 1024.
    algorithm : {"brute", "faiss"}, default="brute"
        ``"brute"``: exact search. ``"faiss"``: an approximate
        ``IndexIVFFlat`` from faiss (``pip install faiss-cpu``), built at
        fit; ties and the last few neighbours may differ from the exact
        ones (measure recall@k on your data).
    index_params : dict, default=None
        Parameters of the faiss index: ``nlist`` (coarse clusters) and
        ``nprobe`` (clusters visited per query; higher is more exact and
        slower); both ints >= 1, and ``nlist`` at most about one list per
        39 gallery rows. Ignored by ``"brute"``.

    Attributes
    ----------
    n_features_in_ : int
        Width of the paired input (twice the shared-space width).
    n_image_features_ : int
        Width of each half.
    indexes_ : dict
        ``{"image": index or None, "text": index or None}``: the search
        index of each stored gallery, exact, faiss or sharded (dask) as the
        gallery and ``algorithm`` ask.
    galleries_ : dict
        The stored embeddings of each modality (unit rows for
        ``similarity="cosine"``), read from ``indexes_``; a sharded gallery's
        entry is its index, which stays on the cluster.
    gallery_labels_ : dict
        Class of each stored item per modality (None where unknown).

    See Also
    --------
    sklearn.neighbors.NearestNeighbors : The search API this one follows.
    skgcrdp.embed_modality : Embed queries of one modality with a pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from skgcrdp import CrossModalRetriever
    >>> Z = np.array([[1.0, 0.0, 0.9, 0.1],
    ...               [0.0, 1.0, 0.1, 0.9]])
    >>> retriever = CrossModalRetriever(n_neighbors=1).fit(Z, [0, 1])
    >>> retriever.kneighbors(np.array([[0.2, 0.8]]), query_modality="image")[1]
    array([[1]])
    >>> retriever.score(Z, [0, 1])
    1.0
    """

    _parameter_constraints = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "similarity": [StrOptions({"cosine", "dot", "euclidean"})],
        "query_modality": [StrOptions({"image", "text"})],
        "block_size": [Interval(Integral, 1, None, closed="left"), None],
        "algorithm": [StrOptions({"brute", "faiss"})],
        "index_params": [dict, None],
    }

    def __init__(self, n_neighbors=10, *, similarity="cosine", query_modality="image",
                 block_size=None, algorithm="brute", index_params=None):
        self.n_neighbors = n_neighbors
        self.similarity = similarity
        self.query_modality = query_modality
        self.block_size = block_size
        self.algorithm = algorithm
        self.index_params = index_params

    def _check_params(self):
        self._validate_params()
        if self.algorithm == "faiss":
            # Before any work, and before a dask gallery reaches the workers.
            check_index_params(self.index_params)

    def _index(self, Z, searchable=False):
        return build_index(Z, self.similarity, algorithm=self.algorithm,
                           index_params=self.index_params, block_size=self.block_size,
                           searchable=searchable)

    @property
    def galleries_(self):
        check_is_fitted(self)
        return {m: None if index is None else index if index.sharded else index.vectors
                for m, index in self.indexes_.items()}

    def fit(self, X, y=None):
        """Store the gallery: both modalities of the given pairs.

        Parameters
        ----------
        X : array-like of shape (n_pairs, 2 * d)
            Shared-space embeddings, image half then text half.
        y : array-like of shape (n_pairs,), default=None
            Classes of the pairs; needed by :meth:`predict`.

        Returns
        -------
        self : object
        """
        self._check_params()
        X, y, n_image = validate_cross_modal(self, X, y, reset=True, split="halves")
        self.n_image_features_ = n_image
        self.indexes_ = {"image": self._index(X[:, :n_image]), "text": self._index(X[:, n_image:])}
        self.gallery_labels_ = {"image": y, "text": y}
        return self

    def fit_gallery(self, Z, y=None, *, modality):
        """Replace the gallery of one modality by embeddings of that modality alone.

        This is how a gallery embedded once (e.g. yesterday, with
        :func:`skgcrdp.embed_modality`) is searched without any pairs.

        A dask array stays distributed: its row chunks become shards held by
        the dask workers, every search visits each shard, and the shards'
        top k are merged exactly (see :meth:`gather_gallery` to bring it
        back into memory, e.g. before saving). With ``algorithm="faiss"``
        each shard gets its own faiss index, built and kept on the worker
        that holds the shard; the search is then approximate within each
        shard, and the merge is still exact.

        Parameters
        ----------
        Z : array-like or dask array of shape (n_items, d)
            Shared-space embeddings of one modality.
        y : array-like of shape (n_items,), default=None
            Their classes, for :meth:`predict`.
        modality : {"image", "text"}
            The modality of ``Z``.

        Returns
        -------
        self : object
        """
        self._check_params()
        check_modality(modality)
        sharded = is_dask_array(Z)
        if sharded:
            if Z.ndim != 2 or Z.dtype.kind != "f":
                raise ValueError(f"Z must be a 2-D float dask array, got {Z.ndim}-D {Z.dtype}.")
            y = None if y is None else np.asarray(y.compute() if is_dask_array(y) else y)
        else:
            Z = check_array(Z, dtype=[np.float64, np.float32], input_name="Z")
        if hasattr(self, "n_image_features_") and Z.shape[1] != self.n_image_features_:
            raise ValueError(
                f"Z has {Z.shape[1]} features, but the shared space of this retriever "
                f"has {self.n_image_features_} per modality."
            )
        if y is not None:
            y = column_or_1d(y)
            if y.shape[0] != Z.shape[0]:
                raise ValueError(f"Z has {Z.shape[0]} rows but y has {y.shape[0]}.")
            if y.dtype.kind == "f" and not np.isfinite(y).all():
                raise ValueError("Input y contains NaN or infinity; each gallery item needs a class.")
        if not hasattr(self, "indexes_"):
            self.n_image_features_ = Z.shape[1]
            self.n_features_in_ = 2 * Z.shape[1]
            self.indexes_ = {"image": None, "text": None}
            self.gallery_labels_ = {"image": None, "text": None}
        self.indexes_[modality] = self._index(Z)
        self.gallery_labels_[modality] = y
        return self

    def gather_gallery(self):
        """Bring galleries held as dask shards back into this process's memory.

        Needed before pickling or :func:`skgcrdp.save`, and when the cluster
        goes away. Exact searches give the same results before and after;
        with ``algorithm="faiss"`` the shards' indexes give way to one
        index over the whole gallery, whose approximate answers may differ
        from theirs.

        Returns
        -------
        self : object
        """
        check_is_fitted(self)
        for modality, index in self.indexes_.items():
            if index is not None and index.sharded:
                self.indexes_[modality] = self._index(index.vectors, searchable=True)
        return self

    def _queries(self, X, query_modality):
        """Query embeddings of one modality from paired or one-modality input."""
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        d = self.n_image_features_
        if X.shape[1] == 2 * d:
            X = X[:, :d] if query_modality == "image" else X[:, d:]
        elif X.shape[1] != d:
            raise ValueError(
                f"X has {X.shape[1]} features; expected {d} (queries of one modality) "
                f"or {2 * d} (paired embeddings)."
            )
        return X

    def _gallery(self, query_modality):
        gallery = self.indexes_[OTHER[query_modality]]
        if gallery is None:
            raise ValueError(
                f"No {OTHER[query_modality]} gallery is stored: fit with paired data or "
                f"call fit_gallery(..., modality={OTHER[query_modality]!r})."
            )
        return gallery

    def kneighbors(self, X, n_neighbors=None, return_distance=True, *, query_modality=None):
        """Find the nearest gallery items of the other modality.

        Parameters
        ----------
        X : array-like of shape (n_queries, d) or (n_queries, 2 * d)
            Queries of one modality, or paired embeddings whose
            ``query_modality`` half is used.
        n_neighbors : int, default=None
            Neighbours per query; None uses ``self.n_neighbors``. At most the
            gallery size.
        return_distance : bool, default=True
            Also return the distances.
        query_modality : {"image", "text"}, default=None
            Modality of the queries; None uses ``self.query_modality``.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Ascending: ``1 - cosine`` for ``"cosine"``, the Euclidean distance
            for ``"euclidean"``, minus the dot product for ``"dot"``. Only
            when ``return_distance=True``.
        indices : ndarray of shape (n_queries, n_neighbors)
            Row indices into the gallery of the other modality; ties keep
            the lower index first.
        """
        query_modality = check_modality(query_modality or self.query_modality)
        queries = self._queries(X, query_modality)
        index = self._gallery(query_modality)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
            raise ValueError(f"n_neighbors must be a positive integer, got {k!r}.")
        if k > len(index):
            raise ValueError(
                f"n_neighbors={k} is larger than the gallery, which holds "
                f"{len(index)} item(s)."
            )
        scores, indices = index.search(as_searchable(queries, index.similarity), k)
        if not return_distance:
            return indices
        return self._to_distance(scores, index.similarity), indices

    def __setstate__(self, state):
        # A fitted state (from pickle, joblib or skgcrdp.load) is checked as fit
        # would have left it before the retriever answers anything from it.
        # Any fitted attribute makes the state a fitted one, checked whole: a
        # state with some of them and without indexes_ would pass
        # check_is_fitted and fail at search. An unfitted one may hold the
        # parameters only; they are validated by fit, as for any estimator.
        check_state(self, state, FITTED_STATE | set(self._get_param_names()))
        fitted = any(name in state for name in FITTED_STATE - {"_sklearn_version"})
        super().__setstate__(state)
        if fitted:
            self._validate_params()
            self._check_fitted_state()

    def _check_fitted_state(self):
        """Refuse a fitted state that fit could not have left (it may come from a file)."""
        def refuse(what):
            raise ValueError(f"CrossModalRetriever was restored with {what}.")

        if self.algorithm == "faiss":
            check_index_params(self.index_params, name="CrossModalRetriever.index_params")
        d = getattr(self, "n_image_features_", None)
        if not _is_int(d) or d < 1:
            refuse(f"n_image_features_={d!r:.60}, not an int >= 1")
        n_features = getattr(self, "n_features_in_", None)
        if not _is_int(n_features) or n_features != 2 * d:
            refuse(f"n_features_in_={n_features!r:.60}, not twice n_image_features_ ({d})")
        names = getattr(self, "feature_names_in_", None)
        if names is not None and not (isinstance(names, np.ndarray) and names.shape == (2 * d,)
                                      and all(isinstance(name, str) for name in names)):
            refuse(f"feature_names_in_ that are not {2 * d} column names")
        for attribute in ("indexes_", "gallery_labels_"):
            value = getattr(self, attribute, None)
            if not (isinstance(value, dict) and set(value) == set(OTHER)):
                refuse(f"{attribute} that does not map 'image' and 'text' to their entries")
        if all(index is None for index in self.indexes_.values()):
            refuse("no gallery in indexes_")
        for modality, index in self.indexes_.items():
            labels = self.gallery_labels_[modality]
            where = f"indexes_[{modality!r}]"
            if index is None:
                if labels is not None:
                    refuse(f"gallery_labels_[{modality!r}] but no gallery in {where}")
                continue
            if type(index) not in (ExactIndex, FaissIndex):
                refuse(f"{where} of type {type(index).__name__}, not a search index")
            if index.similarity != self.similarity:
                refuse(f"{where}.similarity={index.similarity!r}, but similarity={self.similarity!r}")
            if index.shape[1] != d:
                refuse(f"{where} of rows {index.shape[1]} wide, but n_image_features_={d}")
            if labels is not None:
                _check_labels(labels, len(index), f"gallery_labels_[{modality!r}]", refuse)

    @staticmethod
    def _to_distance(scores, similarity):
        if similarity == "cosine":
            return 1.0 - scores
        if similarity == "euclidean":
            return np.sqrt(np.maximum(-scores, 0.0))
        return -scores

    def predict(self, X):
        """Class of the nearest gallery item of the other modality.

        Parameters
        ----------
        X : array-like of shape (n_queries, 2 * d)
            Paired embeddings; their ``query_modality`` half is the query.
            For queries of one modality alone, use :meth:`kneighbors` and
            ``gallery_labels_``.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
        """
        check_is_fitted(self)
        X, _, _ = validate_cross_modal(self, X, reset=False)
        labels = self.gallery_labels_[OTHER[self.query_modality]]
        if labels is None:
            raise ValueError("The gallery was stored without classes: pass y to fit to predict.")
        return labels[self.kneighbors(X, n_neighbors=1, return_distance=False)[:, 0]]

    def score(self, X, y):
        """Mean of image->text and text->image mAP@all among the given pairs.

        The queries are one half of ``X`` and the gallery the other half; the
        stored gallery is not used, so the score measures the shared space
        on held-out (e.g. unseen-class) pairs.

        Parameters
        ----------
        X : array-like of shape (n_pairs, 2 * d)
            Paired shared-space embeddings.
        y : array-like of shape (n_pairs,)
            Class of each pair.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X, y, _ = validate_cross_modal(self, X, y, reset=False)
        return cross_modal_retrieval_score(X, y, similarity=self.similarity)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
