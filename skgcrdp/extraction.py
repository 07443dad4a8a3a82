"""The extract step: GMM-based comprehensive feature extraction, the GC of GCRDP.

:class:`GMMFeatureExtractor`, with the class mixtures it refits between
training epochs.
"""

from numbers import Integral, Real

import numpy as np
import torch

from ._mixtures import ClassMixtures
from ._shared_space import SharedSpaceTransformer
from ._training import (
    TrainingRun,
    as_device_tensor,
    draw_seed,
    embed_tensor,
    encode_labels,
    fit_scalers,
    module_output_width,
    new_training_net,
    training_pairs,
    training_session,
    warn_if_interrupted,
)
from .nn import MultiPositiveContrastiveLoss
from .utils import validate_cross_modal
from .utils._compat import Interval, StrOptions

__all__ = ["GMMFeatureExtractor"]

# EM steps of a refit at most; each class stops earlier at its own convergence.
MIXTURE_MAX_ITER = 20


def _classes_with_mixtures(y, min_pairs):
    """Return the classes with at least ``min_pairs`` pairs, and their pair counts."""
    classes, counts = np.unique(y, return_counts=True)
    keep = counts >= min_pairs
    return classes[keep], counts[keep]


# A class's mixture is fitted on at most this many of its pairs, drawn once
# per fit: a few components need no more, and the refits' cost then stops
# growing with the size of the largest classes.
MAX_PAIRS_PER_MIXTURE = 256


def _mixture_rows(y, classes, counts, seed):
    """Choose the rows the mixtures are fitted on.

    Every pair of ``classes`` (of ``counts`` pairs), at most
    ``MAX_PAIRS_PER_MIXTURE`` of each (a seeded draw); all rows as a slice
    when that is every row, so that the tensors can share the data's memory.
    """
    if counts.sum() == len(y) and counts.max() <= MAX_PAIRS_PER_MIXTURE:
        return slice(None)
    # Each class's rows in order, from one sort rather than a pass over y per class.
    by_class = np.argsort(y, kind="stable")
    starts = np.searchsorted(y[by_class], classes)
    rng = np.random.default_rng(seed)
    rows = [rng.permutation(by_class[start : start + count])[:MAX_PAIRS_PER_MIXTURE]
            for start, count in zip(starts, counts)]
    return np.sort(np.concatenate(rows))


class _PairMixtures:
    """Fit the class mixtures of both modalities on the current embeddings of the pairs.

    The pairs of the classes with mixtures (at most ``MAX_PAIRS_PER_MIXTURE``
    of each) move to the training device once; each :meth:`refit` embeds
    them there in large blocks, runs one batched EM over all classes
    (:class:`~skgcrdp._mixtures.ClassMixtures`), warm-started from the
    previous refit, and hands the mixtures to the net's loss. Between
    refits they stay fixed, so that the prototypes are targets rather than
    moving parts of a batch.
    """

    def __init__(self, pairs, labels, classes, counts, device, **mixture_params):
        rows = _mixture_rows(labels, classes, counts, mixture_params["seed"])
        codes = torch.as_tensor(np.searchsorted(classes, labels[rows]), device=device)
        self.data = {m: as_device_tensor(X[rows], device) for m, X in pairs.items()}
        self.mixtures = {m: ClassMixtures(codes, **mixture_params) for m in self.data}
        # Both modalities' mixtures have the same components: their classes, encoded as y is.
        self.component_labels = torch.as_tensor(classes, device=device)[
            self.mixtures["image"].component_labels]

    def refit(self, net):
        """Refit the mixtures on the pairs as ``net`` embeds them now, and give them to its loss."""
        for modality, X in self.data.items():
            self.mixtures[modality].fit(embed_tensor(net.module_, X, modality))
        net.criterion_.set_mixtures(self.mixtures["image"].flat(), self.mixtures["text"].flat(),
                                    self.component_labels)

    def prototypes(self, modality):
        """Return the means of the components of ``modality`` and their classes (encoded)."""
        return (self.mixtures[modality].flat()[0].cpu().numpy(),
                self.component_labels.cpu().numpy())


class GMMFeatureExtractor(SharedSpaceTransformer):
    """Comprehensive feature extraction with per-modality Gaussian mixtures.

    Two modality encoders (small MLPs) map image and text features into one
    L2-normalised space. Each modality's embeddings are modelled by a
    Gaussian mixture with a few components per class (for classes of at
    least ``min_pairs_for_mixture`` pairs), refitted every
    ``refit_interval`` epochs (warm-started) on the current embeddings. The
    encoders are trained with a multi-positive contrastive loss: every
    anchor's positives are the other samples of its class in both
    modalities and its class's mixture components (prototypes), weighted by
    their E-step responsibilities. The mixtures describe the several peaks
    a class may have, which a handful of pairs only hints at.

    The mixtures of all classes are fitted together by one batched EM on
    the training device (each class on at most 256 of its pairs), and an
    anchor's softmax takes its own class's prototypes only: the cost of a
    batch does not grow with the number of classes, nor does a refit's
    beyond that of embedding the pairs it is fitted on.

    Parameters
    ----------
    n_image_features : int, default=None
        Number of image columns at the start of ``X``. None: take the split
        from ``img__``/``txt__`` column prefixes of a DataFrame.
    embedding_dim : int, default=64
        Width of the shared space (per modality).
    hidden_dim : int, default=512
        Width of the encoders' hidden layers.
    n_hidden_layers : int, default=1
        Hidden layers per encoder; 0 gives linear encoders.
    dropout : float, default=0.5
        Dropout after each hidden layer.
    n_components_per_class : int, default=2
        Mixture components per class and modality (fewer for classes with
        fewer than ``4 * n_components_per_class`` pairs).
    min_pairs_for_mixture : int, default=8
        Classes with fewer training pairs get no mixture and no prototypes;
        their class-level target goes to their samples alone. A mixture of
        so few pairs has one component, the class mean, which the class's
        samples already stand for (with 5 pairs per class, dropping it was
        better by inner class-disjoint CV on both embedded data sets; see
        docs/user_guide/method.md). 1 gives every class its prototypes.
    covariance_type : {"diag", "spherical"}, default="diag"
        Covariance of each component.
    reg_covar : float, default=1e-3
        Added to the covariances' diagonals; keeps components of small
        classes from becoming singular.
    refit_interval : int, default=5
        Epochs between two refits of the mixtures.
    prototype_weight : float in [0, 1], default=0.5
        Share of the class-level positive target given to the class's
        prototypes (by responsibility), the rest going to the class's
        samples; 0 trains plain multi-positive contrastive encoders (no
        mixtures are fitted).
    instance_weight : float in [0, 1], default=0.7
        Share of the positive target given to each sample's own partner in
        the other modality. Pair-level alignment is what carries over to
        unseen classes; class-level positives alone overfit the seen ones,
        yet with few pairs per class they add what the pairs cannot (0.7 was
        chosen over 0.9 and 0.5 by inner class-disjoint CV on both embedded
        data sets; see docs/user_guide/method.md).
    temperature : float, default=0.5
        Temperature of the contrastive softmax.
    standardize : bool, default=True
        Standardise each modality's features before the encoders.
    max_epochs : int, default=20
        Training epochs.
    batch_size : int, default=256
        Pairs per batch.
    lr : float, default=1e-3
        Learning rate of AdamW.
    weight_decay : float, default=1e-2
        Weight decay of AdamW.
    device : str, default="auto"
        Torch device; ``"auto"`` takes CUDA when present.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, shuffling, dropout and mixtures. Equal seeds give
        identical results on CPU.
    verbose : int, default=0
        1 or more prints skorch's table of epochs.
    checkpoint_dir : str or path, default=None
        Save the network (weights, optimiser state, history) after every
        epoch under ``checkpoint_dir/<key>``, the key being a hash of the
        parameters (but ``max_epochs``) and the training data, so that
        parallel fits never share files. A later ``fit`` of the same
        estimator on the same data resumes from there and trains only the
        epochs up to ``max_epochs`` that are left (raise ``max_epochs`` to
        train longer); it is not bit-identical to an uninterrupted fit, as
        the random streams restart. None writes nothing.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when ``X`` had string columns.
    n_image_features_ : int
        Number of image columns.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen during fit.
    embedding_dim_ : int
        Width of each modality's embedding.
    scalers_ : dict of {"image", "text"} to StandardScaler, or None
        The scaler fitted on each modality's training features; None when
        ``standardize=False``.
    n_epochs_ : int
        Epochs trained; fewer than ``max_epochs`` when training was
        interrupted (an ``InterruptedFitWarning`` says so).
    net_ : skorch.NeuralNet
        The trained two-tower network.
    image_prototypes_, text_prototypes_ : ndarray of shape (n_prototypes, embedding_dim)
        Means of the final mixture components of each modality.
    prototype_labels_ : ndarray of shape (n_prototypes,)
        Class of each prototype.

    See Also
    --------
    RelativeDistanceAligner : Aligns the two modalities of a shared space.
    CrossModalRetriever : Searches one modality with the other.
    make_gcrdp_pipeline : The three stages in one Pipeline.

    References
    ----------
    Sun, Li, Li, Liu, Shan, "GMM-Based Comprehensive Feature Extraction and
    Relative Distance Preservation For Few-Shot Cross-Modal Retrieval",
    arXiv:2505.13306, 2025.

    Examples
    --------
    >>> from skgcrdp import GMMFeatureExtractor
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_classes=4, random_state=0)
    >>> extractor = GMMFeatureExtractor(n_image_features=20, embedding_dim=8,
    ...                                 max_epochs=5, random_state=0)
    >>> extractor.fit_transform(X, y).shape
    (200, 16)
    """

    _parameter_constraints = {
        **SharedSpaceTransformer._parameter_constraints,
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "n_components_per_class": [Interval(Integral, 1, None, closed="left")],
        "min_pairs_for_mixture": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"diag", "spherical"})],
        "reg_covar": [Interval(Real, 0, None, closed="neither")],
        "refit_interval": [Interval(Integral, 1, None, closed="left")],
        "prototype_weight": [Interval(Real, 0, 1, closed="both")],
        "standardize": ["boolean"],
    }

    def __init__(
        self,
        n_image_features=None,
        *,
        embedding_dim=64,
        hidden_dim=512,
        n_hidden_layers=1,
        dropout=0.5,
        n_components_per_class=2,
        min_pairs_for_mixture=8,
        covariance_type="diag",
        reg_covar=1e-3,
        refit_interval=5,
        prototype_weight=0.5,
        instance_weight=0.7,
        temperature=0.5,
        standardize=True,
        max_epochs=20,
        batch_size=256,
        lr=1e-3,
        weight_decay=1e-2,
        device="auto",
        random_state=None,
        verbose=0,
        checkpoint_dir=None,
    ):
        self.n_image_features = n_image_features
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.n_hidden_layers = n_hidden_layers
        self.dropout = dropout
        self.n_components_per_class = n_components_per_class
        self.min_pairs_for_mixture = min_pairs_for_mixture
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.refit_interval = refit_interval
        self.prototype_weight = prototype_weight
        self.instance_weight = instance_weight
        self.temperature = temperature
        self.standardize = standardize
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir

    def _module_params(self, n_image, n_text):
        return dict(
            n_image_features=n_image,
            n_text_features=n_text,
            embedding_dim=self.embedding_dim,
            hidden_dim=self.hidden_dim,
            n_hidden_layers=self.n_hidden_layers,
            dropout=self.dropout,
        )

    def _criterion(self):
        return MultiPositiveContrastiveLoss, dict(
            temperature=self.temperature,
            prototype_weight=self.prototype_weight,
            instance_weight=self.instance_weight,
        )

    def fit(self, X, y):
        """Train the encoders, refitting the class mixtures every ``refit_interval`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Image features, then text features, of each pair.
        y : array-like of shape (n_pairs,)
            Class of each pair: its positives and its mixture are its class's.

        Returns
        -------
        self : GMMFeatureExtractor
            This extractor, fitted.
        """
        self._validate_params()
        X, y, self.n_image_features_ = validate_cross_modal(self, X, y, reset=True, split="given")
        self.classes_, labels = encode_labels(y)
        self.scalers_ = fit_scalers(X, self.n_image_features_) if self.standardize else None
        pairs = training_pairs(X, self.n_image_features_, self.scalers_)
        seed = draw_seed(self.random_state)
        with training_session(seed):
            self.net_ = new_training_net(self, X, labels, pairs, seed)
            run = TrainingRun(self.net_, pairs, labels)
            mixtures = self._new_mixtures(pairs, labels, seed)
            for epoch in range(run.first_epoch, self.max_epochs):
                # Mixtures for the first epoch of a run, then every `refit_interval` epochs.
                if mixtures is not None and (epoch == run.first_epoch
                                             or epoch % self.refit_interval == 0):
                    mixtures.refit(self.net_)
                if not run.train_epoch():
                    break
            run.finish()
            if mixtures is not None:
                mixtures.refit(self.net_)  # the stored prototypes describe the final encoders
        self._store_prototypes(mixtures)
        self.n_epochs_ = warn_if_interrupted(self)
        self.embedding_dim_ = module_output_width(self.net_.module_)
        return self

    def _new_mixtures(self, pairs, labels, seed):
        """Make the mixtures of the classes with enough pairs; None when no prototypes are used."""
        classes, counts = _classes_with_mixtures(labels, self.min_pairs_for_mixture)
        if self.prototype_weight == 0 or not len(classes):
            return None
        return _PairMixtures(
            pairs, labels, classes, counts, self.net_.device,
            n_components_per_class=self.n_components_per_class,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            max_iter=MIXTURE_MAX_ITER,
            seed=seed,
        )

    def _store_prototypes(self, mixtures):
        """Keep the final components' means as ``*_prototypes_``; none without mixtures."""
        if mixtures is None:
            self.image_prototypes_ = self.text_prototypes_ = np.empty((0, self.embedding_dim))
            self.prototype_labels_ = np.empty(0, dtype=self.classes_.dtype)
            return
        self.image_prototypes_, codes = mixtures.prototypes("image")
        self.text_prototypes_, _ = mixtures.prototypes("text")
        self.prototype_labels_ = self.classes_[codes]
