"""Baseline embedders in the one-``X`` contract: linear two-view models, DSCMR and chance.

They put scikit-learn's two-view models (``CCA``, ``PLSCanonical``, which
``fit(X, Y)`` on two arrays), a published deep method (DSCMR, trained by
skorch like the GCRDP stages) and a random projection behind the same
``fit(X, y)`` / ``transform`` / ``transform_modality`` interface as the
GCRDP stages, so any of them can feed a
:class:`~skgcrdp.RelativeDistanceAligner` or a
:class:`~skgcrdp.CrossModalRetriever` inside a ``Pipeline``. Relative
profiles, which GCRDP's pipeline can use too, live in
:mod:`skgcrdp.profiles`.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.cross_decomposition import PLSCanonical
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state

from ._paired import PairedEmbedder
from ._shared_space import SharedSpaceTransformer
from ._training import (
    encode_labels,
    fit_scalers,
    module_output_width,
    train_net,
    training_pairs,
    warn_if_interrupted,
)
from .nn import DSCMRLoss, SharedLayerHeads
from .utils import validate_cross_modal
from .utils._compat import HasMethods, Interval

__all__ = [
    "CrossDecompositionEmbedder",
    "DSCMREmbedder",
    "RandomProjectionEmbedder",
]


class CrossDecompositionEmbedder(PairedEmbedder):
    """Embed paired data with a scikit-learn two-view model (CCA, PLS) in the one-``X`` contract.

    Each modality is standardised on the training pairs (and optionally
    reduced by PCA), then ``estimator.fit(X_image, X_text)``; ``transform``
    returns the image scores and the text scores side by side.

    Parameters
    ----------
    n_image_features : int, default=None
        Number of image columns; None reads ``img__``/``txt__`` prefixes.
    estimator : estimator with ``fit(X, Y)`` and ``transform(X, Y)``, default=None
        A cross-decomposition model; None uses ``PLSCanonical(n_components=10)``.
    n_pca_components : int, default=None
        Reduce each standardised modality to at most this many principal
        components (and fewer than the number of pairs) before ``estimator``;
        None keeps every feature. CCA needs it when a modality has about as
        many features as there are pairs: it whitens each view, which is then
        singular (it fails or overfits to noise).

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    pcas_ : dict of str to PCA or None
        The fitted PCA of each modality (None without ``n_pca_components``).
    n_image_features_ : int
        Number of image columns.

    Examples
    --------
    >>> from sklearn.cross_decomposition import CCA
    >>> from skgcrdp.baselines import CrossDecompositionEmbedder
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(random_state=0)
    >>> CrossDecompositionEmbedder(20, CCA(n_components=4)).fit_transform(X).shape
    (250, 8)
    """

    _parameter_constraints = {
        **PairedEmbedder._parameter_constraints,
        "estimator": [HasMethods(["fit", "transform"]), None],
        "n_pca_components": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, n_image_features=None, estimator=None, n_pca_components=None):
        self.n_image_features = n_image_features
        self.estimator = estimator
        self.n_pca_components = n_pca_components

    def _fit_views(self, A, B):
        self.pcas_ = {"image": self._fit_pca(A), "text": self._fit_pca(B)}
        estimator = PLSCanonical(n_components=10) if self.estimator is None else self.estimator
        self.estimator_ = clone(estimator).fit(self._reduced(A, "image"), self._reduced(B, "text"))

    def _fit_pca(self, X):
        if self.n_pca_components is None:
            return None
        width = min(self.n_pca_components, X.shape[1], max(1, X.shape[0] - 1))
        return PCA(width, svd_solver="full").fit(X)

    def _reduced(self, X, modality):
        pca = self.pcas_[modality]
        return X if pca is None else pca.transform(X)

    def _embed(self, X, modality):
        X = self._reduced(self._scaled(X, modality), modality)
        if modality == "image":
            return self.estimator_.transform(X)
        # transform(X, Y) computes the Y scores from Y alone; the X block is
        # a placeholder whose scores are thrown away.
        placeholder = np.zeros((X.shape[0], self.estimator_.n_features_in_))
        return self.estimator_.transform(placeholder, X)[1]


class DSCMREmbedder(SharedSpaceTransformer):
    """Deep Supervised Cross-Modal Retrieval (DSCMR), trained by skorch.

    Each modality has its own hidden layers; one linear layer that both
    modalities share maps them into a common space, and a linear classifier
    on the common space predicts each pair's label from either modality. The
    networks are trained by the sum of the label-space discrimination loss,
    ``alpha`` times the common-space discrimination loss and ``beta`` times
    the modality-invariance loss (:func:`skgcrdp.nn.dscmr_loss`). Retrieval
    uses the common space, compared by cosine, since the classifier knows
    only the training classes.

    The parameters carry the paper's names (``alpha``, ``beta``) and the
    defaults of the authors' released code (``alpha=1e-3``, ``beta=1e-1``,
    Adam with ``lr=1e-4`` and ``betas=(0.5, 0.999)``, batches of 100, one
    hidden layer of 2048 units per modality, a 1024-wide common space).
    Choices the paper leaves open, made here: the inputs are feature vectors
    (the paper's image network starts from a CNN's fc7 features, its text
    network from sentence features: any fixed features work alike), each
    modality is standardised on the training pairs first (``standardize``),
    there is no dropout, training runs a fixed ``max_epochs`` with no
    validation-based stopping (there is no validation split of unseen
    classes to stop on), and a pair's label vector is the one-hot vector of
    its class.

    Parameters
    ----------
    n_image_features : int, default=None
        Number of image columns at the start of ``X``. None: take the split
        from ``img__``/``txt__`` column prefixes of a DataFrame.
    alpha : float, default=1e-3
        Weight of the common-space discrimination loss.
    beta : float, default=1e-1
        Weight of the modality-invariance loss.
    embedding_dim : int, default=1024
        Width of the common space.
    hidden_dim : int, default=2048
        Width of each modality's hidden layers.
    n_hidden_layers : int, default=1
        Hidden layers per modality (at least 1).
    dropout : float, default=0.0
        Dropout after each hidden layer.
    standardize : bool, default=True
        Standardise each modality's features before the networks.
    max_epochs : int, default=100
        Training epochs.
    batch_size : int, default=100
        Pairs per batch.
    lr : float, default=1e-4
        Learning rate of Adam.
    betas : tuple of float, default=(0.5, 0.999)
        Adam's decay rates of the gradient's moments.
    weight_decay : float, default=0.0
        Weight decay (decoupled, as in AdamW; 0 is plain Adam).
    device : str, default="auto"
        Torch device; ``"auto"`` takes CUDA when present.
    random_state : int, RandomState instance or None, default=None
        Seeds weights and shuffling. Equal seeds give identical results on CPU.
    verbose : int, default=0
        1 or more prints skorch's table of epochs.
    checkpoint_dir : str or path, default=None
        As in :class:`~skgcrdp.GMMFeatureExtractor`: save every epoch, and
        resume a later fit of the same estimator on the same data.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when ``X`` had string columns.
    n_image_features_ : int
        Number of image columns.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen during fit (the classifier's outputs).
    embedding_dim_ : int
        Width of each modality's representation.
    scalers_ : dict of {"image", "text"} to StandardScaler, or None
        The scaler fitted on each modality's training features; None when
        ``standardize=False``.
    n_epochs_ : int
        Epochs trained.
    net_ : skorch.NeuralNet
        The trained network (:class:`skgcrdp.nn.SharedLayerHeads`).

    See Also
    --------
    GMMFeatureExtractor : GCRDP's trained stage.

    References
    ----------
    Zhen, Hu, Wang, Peng, "Deep Supervised Cross-Modal Retrieval", CVPR 2019.

    Examples
    --------
    >>> from skgcrdp.baselines import DSCMREmbedder
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_classes=4, random_state=0)
    >>> dscmr = DSCMREmbedder(n_image_features=20, hidden_dim=32, embedding_dim=8,
    ...                       max_epochs=5, random_state=0)
    >>> dscmr.fit_transform(X, y).shape
    (200, 16)
    """

    _module = SharedLayerHeads

    _parameter_constraints = {
        **SharedSpaceTransformer._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "n_hidden_layers": [Interval(Integral, 1, None, closed="left")],
        "standardize": ["boolean"],
        "betas": [tuple],
    }

    def __init__(
        self,
        n_image_features=None,
        *,
        alpha=1e-3,
        beta=1e-1,
        embedding_dim=1024,
        hidden_dim=2048,
        n_hidden_layers=1,
        dropout=0.0,
        standardize=True,
        max_epochs=100,
        batch_size=100,
        lr=1e-4,
        betas=(0.5, 0.999),
        weight_decay=0.0,
        device="auto",
        random_state=None,
        verbose=0,
        checkpoint_dir=None,
    ):
        self.n_image_features = n_image_features
        self.alpha = alpha
        self.beta = beta
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.n_hidden_layers = n_hidden_layers
        self.dropout = dropout
        self.standardize = standardize
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.betas = betas
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir

    def fit(self, X, y):
        """Train the modality networks, the shared layer and the label classifier.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            The training pairs: image columns first, then text columns.
        y : array-like of shape (n_pairs,)
            Class of each pair: the classifier's target.

        Returns
        -------
        self : DSCMREmbedder
            This embedder, fitted.
        """
        self._validate_params()
        X, y, self.n_image_features_ = validate_cross_modal(self, X, y, reset=True, split="given")
        self.classes_, labels = encode_labels(y)
        self.scalers_ = fit_scalers(X, self.n_image_features_) if self.standardize else None
        self.net_ = train_net(self, X, labels, training_pairs(X, self.n_image_features_, self.scalers_))
        self.n_epochs_ = warn_if_interrupted(self)
        self.embedding_dim_ = module_output_width(self.net_.module_)
        return self

    def _module_params(self, n_image, n_text):
        return dict(
            n_image_features=n_image,
            n_text_features=n_text,
            n_classes=len(self.classes_),
            embedding_dim=self.embedding_dim,
            hidden_dim=self.hidden_dim,
            n_hidden_layers=self.n_hidden_layers,
            dropout=self.dropout,
        )

    def _criterion(self):
        return DSCMRLoss, dict(n_classes=len(self.classes_), alpha=self.alpha, beta=self.beta)

    def _optimizer_params(self):
        return {"weight_decay": self.weight_decay, "betas": tuple(self.betas)}


class RandomProjectionEmbedder(PairedEmbedder):
    """Chance level: each standardised modality through its own Gaussian matrix.

    The two projections are unrelated, so retrieval across modalities is
    no better than chance whatever the data; use it as the floor of a
    comparison.

    Parameters
    ----------
    n_image_features : int, default=None
        Number of image columns; None reads ``img__``/``txt__`` prefixes.
    n_components : int, default=10
        Output width per modality.
    random_state : int, RandomState instance or None, default=None

    Examples
    --------
    >>> from skgcrdp.baselines import RandomProjectionEmbedder
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(random_state=0)
    >>> RandomProjectionEmbedder(20, n_components=3, random_state=0).fit_transform(X).shape
    (250, 6)
    """

    _parameter_constraints = {
        **PairedEmbedder._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_image_features=None, n_components=10, random_state=None):
        self.n_image_features = n_image_features
        self.n_components = n_components
        self.random_state = random_state

    def _fit_views(self, A, B):
        rng = check_random_state(self.random_state)
        self.components_ = {
            "image": rng.standard_normal((A.shape[1], self.n_components)),
            "text": rng.standard_normal((B.shape[1], self.n_components)),
        }

    def _embed(self, X, modality):
        return self._scaled(X, modality) @ self.components_[modality]
