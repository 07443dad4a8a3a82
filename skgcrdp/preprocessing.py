"""Per-modality preprocessing in front of the GCRDP stages: :class:`ModalityTransformer`."""

from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._encoder_inputs import row_name
from .encoders import _Encoder
from .utils import (
    IMAGE_PREFIX,
    MODALITIES,
    TEXT_PREFIX,
    check_modality,
    check_not_a_string,
    check_split,
    resolve_n_image_features,
)
from .utils._compat import HasMethods, Interval, StrOptions, output_container

__all__ = ["ModalityTransformer"]

PREFIXES = {"image": IMAGE_PREFIX, "text": TEXT_PREFIX}


class ModalityTransformer(TransformerMixin, BaseEstimator):
    """Apply one transformer to the image part and another to the text part.

    The preprocessing a user already has (PCA on CNN features, TF-IDF and SVD
    on raw captions, a scaler, a pretrained encoder) goes in front of the
    GCRDP stages with this step. Its output is the library's one-``X``
    contract: the image outputs then the text outputs, as a DataFrame whose
    columns are named ``img__*`` and ``txt__*``, so later stages find the
    split without ``n_image_features``. ``set_output`` is honoured:
    ``set_output(transform="default")`` gives a plain array instead (the
    split is then ``n_image_features_out_``, for the next stage's
    ``n_image_features``), ``"pandas"`` (the default) a DataFrame.
    :meth:`transform_modality` runs one modality's transformer alone, which
    lets :func:`~skgcrdp.embed_modality` embed a gallery or queries of one
    modality through the whole pipeline.

    Parameters
    ----------
    image, text : estimator or "passthrough", default="passthrough"
        Transformer (or Pipeline) for each modality; it is cloned in ``fit``.
        ``"passthrough"`` keeps the part as it is (it must then be numeric).
    image_columns, text_columns : str, array-like of str or None, default=None
        Where each part is in a DataFrame ``X``. A list selects numeric
        columns (given to the transformer as a DataFrame); a single name
        selects one column (given as a Series), e.g. raw captions for a
        ``TfidfVectorizer`` or image file paths for an encoder. None takes
        the ``img__``/``txt__`` columns, or the ``n_image_features`` split.
    n_image_features : int, default=None
        Split of a 2-D array ``X`` (or of unprefixed DataFrame columns): its
        first ``n_image_features`` columns are the image part.
    densify : bool, default=False
        Turn a transformer's sparse output (a ``TfidfVectorizer`` without an
        SVD after it) into a dense array. Off, sparse output is an error: a
        dense TF-IDF matrix of a large vocabulary is rarely what one wants.
    verbose : int, default=0
        Passed in ``fit`` to every ``verbose`` parameter of the two
        transformers when nonzero: an encoder of
        :mod:`skgcrdp.encoders` then shows a progress bar.

    Attributes
    ----------
    transformers_ : dict of str to estimator or "passthrough"
        The fitted transformer of each modality.
    n_image_features_out_ : int
        Output width of the image part: the split of the output.
    n_text_features_out_ : int
        Output width of the text part.
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names of ``X`` seen in ``fit``, when it was a DataFrame.

    See Also
    --------
    skgcrdp.make_gcrdp_pipeline : Takes it as ``preprocess``.
    skgcrdp.embed_modality : Embeds one modality through a fitted pipeline.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.decomposition import PCA, TruncatedSVD
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.pipeline import make_pipeline
    >>> from skgcrdp import ModalityTransformer
    >>> frame = pd.DataFrame({"px0": [0.0, 1.0, 2.0, 3.0], "px1": [1.0, 0.0, 1.0, 5.0],
    ...                       "caption": ["a red bus", "a dog", "a red car", "two dogs"]})
    >>> pre = ModalityTransformer(
    ...     image=PCA(1), text=make_pipeline(TfidfVectorizer(), TruncatedSVD(2, random_state=0)),
    ...     image_columns=["px0", "px1"], text_columns="caption")
    >>> pre.fit_transform(frame).columns.tolist()
    ['img__pca0', 'txt__truncatedsvd0', 'txt__truncatedsvd1']
    >>> pre.transform_modality(["a blue bus"], "text").shape
    (1, 2)
    """

    _parameter_constraints = {
        "image": [HasMethods(["fit", "transform"]), StrOptions({"passthrough"})],
        "text": [HasMethods(["fit", "transform"]), StrOptions({"passthrough"})],
        "image_columns": [str, "array-like", None],
        "text_columns": [str, "array-like", None],
        "n_image_features": [Interval(Integral, 1, None, closed="left"), None],
        "densify": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(self, image="passthrough", text="passthrough", *, image_columns=None,
                 text_columns=None, n_image_features=None, densify=False, verbose=0):
        self.image = image
        self.text = text
        self.image_columns = image_columns
        self.text_columns = text_columns
        self.n_image_features = n_image_features
        self.densify = densify
        self.verbose = verbose

    # -- selecting each modality's part ------------------------------------

    def _columns(self, modality):
        """The column selection of ``modality``: None, one name, or a list of names."""
        columns = self.image_columns if modality == "image" else self.text_columns
        return columns if columns is None or isinstance(columns, str) else list(columns)

    def _part(self, X, modality):
        """The ``modality`` part of paired ``X``, as its transformer will see it."""
        columns = self._columns(modality)
        if isinstance(X, pd.DataFrame):
            if columns is None:
                return self._split_frame(X, modality)
            missing = [c for c in ([columns] if isinstance(columns, str) else columns)
                       if c not in X.columns]
            if missing:
                raise ValueError(
                    f"{modality}_columns names {missing}, not among the columns of X "
                    f"({list(X.columns)[:10]}{'...' if X.shape[1] > 10 else ''})."
                )
            return self._check_part(X[columns], modality)
        if self.image_columns is not None or self.text_columns is not None:
            raise TypeError(
                "image_columns/text_columns name DataFrame columns, but X is a "
                f"{type(X).__name__}: pass a DataFrame, or n_image_features for an array."
            )
        X = check_array(X, dtype=None, input_name="X")
        n_image = self._split(X)
        return self._check_part(X[:, :n_image] if modality == "image" else X[:, n_image:], modality)

    def _split_frame(self, X, modality):
        n_image = self._split(X)
        part = X.iloc[:, :n_image] if modality == "image" else X.iloc[:, n_image:]
        return self._check_part(part, modality)

    def _split(self, X):
        """The number of image columns: from the ``img__`` prefixes or ``n_image_features``."""
        n_image = resolve_n_image_features(X, self.n_image_features)
        check_split(n_image, X.shape[1])
        return n_image

    def _check_part(self, part, modality):
        """A single text column is raw text: every value must be a string."""
        if isinstance(part, pd.Series) and modality == "text":
            bad = next(((row, v) for row, v in enumerate(part) if not isinstance(v, str)), None)
            if bad is not None:
                row, value = bad
                where = row_name(row, list(part.index))
                raise TypeError(
                    f"Text column {part.name!r} holds non-string values ({where}: {value!r} of "
                    f"type {type(value).__name__}); raw text must be str. Fill or drop "
                    "missing captions first."
                )
        return part

    # -- fitting and transforming -------------------------------------------

    def fit(self, X, y=None):
        """Fit each modality's transformer on its part of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_pairs, n_columns)
            Paired data: image part and text part of each pair.
        y : array-like of shape (n_pairs,), default=None
            Passed to both transformers (supervised ones use it).

        Returns
        -------
        self : object
        """
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit each modality's transformer and return the paired output.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_pairs, n_columns)
        y : array-like of shape (n_pairs,), default=None
        **fit_params : dict
            Not used; present for scikit-learn's signature.

        Returns
        -------
        Z : DataFrame or ndarray of shape (n_pairs, n_image_out + n_text_out)
            Image outputs, then text outputs: a DataFrame with ``img__*``
            and ``txt__*`` columns unless ``set_output`` asks otherwise.
        """
        self._validate_params()
        X = self._checked_container(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        self.transformers_, widths, outputs = {}, {}, {}
        self._input_widths, self._input_columns = {}, {}
        for modality in MODALITIES:
            part = self._part(X, modality)
            transformer = getattr(self, modality)
            if transformer == "passthrough":
                self.transformers_[modality] = "passthrough"
                outputs[modality] = self._numeric(part, modality)
            else:
                self.transformers_[modality] = self._with_verbose(clone(transformer))
                out = self.transformers_[modality].fit_transform(part, y)
                outputs[modality] = self._dense(out, modality)
            self._record_input(modality, part)
            widths[modality] = outputs[modality].shape[1]
        self.n_image_features_out_, self.n_text_features_out_ = widths["image"], widths["text"]
        return self._paired_output(outputs, X)

    def _with_verbose(self, transformer):
        """Give the encoders in ``transformer`` our ``verbose``, when ours asks for output.

        Only skgcrdp's encoders: another step's ``verbose`` may mean something
        else (a Pipeline's prints each step's time).
        """
        if not self.verbose or not hasattr(transformer, "get_params"):
            return transformer
        steps = {"": transformer, **transformer.get_params(deep=True)}
        names = [f"{name}__verbose" if name else "verbose"
                 for name, step in steps.items() if isinstance(step, _Encoder)]
        return transformer.set_params(**dict.fromkeys(names, self.verbose))

    @staticmethod
    def _checked_container(X):
        """A DataFrame as it is (its columns may hold text); anything else as a 2-D array."""
        if isinstance(X, pd.DataFrame):
            return X
        return check_array(X, dtype=None, input_name="X")

    def _record_input(self, modality, part):
        """What one modality's input looked like in ``fit``, for ``transform_modality``."""
        if isinstance(part, pd.Series):
            self._input_widths[modality], self._input_columns[modality] = None, part.name
        else:
            self._input_widths[modality] = np.shape(part)[1]
            self._input_columns[modality] = (
                list(part.columns) if isinstance(part, pd.DataFrame) else None
            )

    def _numeric(self, part, modality):
        try:
            return check_array(part, dtype=[np.float64, np.float32], input_name=f"{modality} part")
        except ValueError as error:
            raise ValueError(
                f"The {modality} part goes through 'passthrough' and must be numeric: {error} "
                f"Give {modality}= a transformer that turns it into numbers."
            ) from None

    def _dense(self, out, modality):
        if sp.issparse(out):
            if not self.densify:
                raise TypeError(
                    f"The {modality} transformer returned a sparse matrix of shape {out.shape}. "
                    "Reduce it to dense features (e.g. add TruncatedSVD after a "
                    "TfidfVectorizer), or pass densify=True to turn it dense as it is."
                )
            out = out.toarray()
        out = np.asarray(out, dtype=np.float64) if not hasattr(out, "to_numpy") \
            else out.to_numpy(dtype=np.float64)
        if out.ndim != 2:
            raise ValueError(
                f"The {modality} transformer returned a {out.ndim}-D output; "
                "each modality needs a 2-D (n_pairs, n_features) one."
            )
        return out

    def _transform_part(self, part, modality):
        transformer = self.transformers_[modality]
        width = self._input_widths[modality]
        if width is not None and np.shape(part)[1] != width:
            raise ValueError(
                f"The {modality} part has {np.shape(part)[1]} column(s), but "
                f"ModalityTransformer was fitted with {width}."
            )
        if transformer == "passthrough":
            return self._numeric(part, modality)
        return self._dense(transformer.transform(part), modality)

    def transform(self, X):
        """Transform each modality's part and put the outputs side by side.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_pairs, n_columns)
            Laid out as in ``fit``.

        Returns
        -------
        Z : DataFrame or ndarray of shape (n_pairs, n_image_out + n_text_out)
            Image outputs, then text outputs: a DataFrame with ``img__*``
            and ``txt__*`` columns unless ``set_output`` asks otherwise.
        """
        check_is_fitted(self)
        X = self._checked_container(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        outputs = {m: self._transform_part(self._part(X, m), m) for m in MODALITIES}
        return self._paired_output(outputs, X)

    def transform_modality(self, X, modality):
        """Transform one modality's inputs alone.

        Parameters
        ----------
        X : list of str, Series, DataFrame or array-like
            That modality's inputs without their partners: what its column
            selection gives (strings for a raw text column, the numeric
            columns otherwise), or a DataFrame holding those columns.
        modality : {"image", "text"}

        Returns
        -------
        Z : ndarray of shape (n_samples, n_modality_out)
            Equal to the ``modality`` half of :meth:`transform`; its width is
            ``n_image_features_out_`` or ``n_text_features_out_``.
        """
        check_is_fitted(self)
        check_not_a_string(X, check_modality(modality))
        columns = self._input_columns[modality]
        if isinstance(X, pd.DataFrame) and isinstance(columns, (str, list)):
            wanted = [columns] if isinstance(columns, str) else columns
            if set(wanted) <= set(X.columns):
                X = X[columns]
            elif isinstance(columns, str):
                raise ValueError(
                    f"The {modality} part is the column {columns!r}: pass its values "
                    "(a list or Series), or a DataFrame holding that column."
                )
        if isinstance(columns, str) and not isinstance(X, pd.Series):
            X = pd.Series(list(X), name=columns)
        elif isinstance(columns, list) and not isinstance(X, pd.DataFrame):
            # The transformer was fitted on named columns; give it the same names.
            X = check_array(X, dtype=None, input_name="X")
            if X.shape[1] == len(columns):
                X = pd.DataFrame(X, columns=columns)
        return self._transform_part(self._check_part(X, modality), modality)

    # -- output ---------------------------------------------------------------

    def _width(self, modality):
        return self.n_image_features_out_ if modality == "image" else self.n_text_features_out_

    def _paired_output(self, outputs, X):
        """Both outputs side by side, in the container ``set_output`` asks for (pandas by default)."""
        Z = np.hstack([outputs["image"], outputs["text"]])
        if output_container("transform", self, default="pandas") != "pandas":
            # A plain array, or one that scikit-learn's wrapper turns into
            # another container (polars) with get_feature_names_out's names.
            return Z
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(Z, columns=self.get_feature_names_out(), index=index)

    def _names(self, modality):
        prefix = PREFIXES[modality]
        transformer = self.transformers_[modality]
        names = None
        if transformer != "passthrough" and hasattr(transformer, "get_feature_names_out"):
            try:
                names = [str(n) for n in transformer.get_feature_names_out()]
            except (AttributeError, ValueError, TypeError):
                names = None
        elif transformer == "passthrough" and isinstance(self._input_columns[modality], list):
            names = [str(c) for c in self._input_columns[modality]]
        if names is None or len(names) != self._width(modality):
            names = [str(i) for i in range(self._width(modality))]
        return [n if n.startswith(prefix) else prefix + n for n in names]

    def get_feature_names_out(self, input_features=None):
        """``img__*`` names of the image outputs, then ``txt__*`` names of the text outputs.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the names come from each modality's transformer.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        return np.asarray(self._names("image") + self._names("text"), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
