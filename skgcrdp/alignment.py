"""The align step: relative distance preservation, the RDP of GCRDP (:class:`RelativeDistanceAligner`)."""

from numbers import Integral, Real

from ._shared_space import SharedSpaceTransformer
from ._training import (
    encode_labels,
    module_output_width,
    train_net,
    training_pairs,
    warn_if_interrupted,
)
from .nn import RelativeDistanceLoss
from .utils import validate_cross_modal
from .utils._compat import Interval

__all__ = ["RelativeDistanceAligner"]


class RelativeDistanceAligner(SharedSpaceTransformer):
    """Align two modalities by preserving their relative distances.

    A head per modality (linear by default, started as the identity where
    the widths allow) is trained so that the arrangement of samples and
    class prototypes seen from the image side matches the one seen from the
    text side (symmetric KL between ``softmax(-D / distance_temperature)``
    distance profiles), next to a supervised contrastive term that keeps
    the classes apart. It works on any paired embedding: the output of
    :class:`GMMFeatureExtractor`, or of PCA, CCA or PLS applied per modality.

    Parameters
    ----------
    n_image_features : int, default=None
        Number of image columns of the input. None: equal halves (the layout
        every shared-space stage outputs), or ``img__``/``txt__`` prefixes.
    embedding_dim : int, default=None
        Output width per modality; None keeps the smaller input width.
    hidden_dim : int, default=256
        Width of hidden layers, if any.
    n_hidden_layers : int, default=0
        0 gives linear heads.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    residual : bool, default=True
        Start each head as the identity and learn a correction (only where
        a modality's input width equals ``embedding_dim``).
    rdp_weight : float, default=1.0
        Weight of the relative-distance term; 0 turns the aligner into a
        plain contrastive fine-tuning.
    contrastive_weight : float, default=1.0
        Weight of the supervised contrastive term.
    instance_weight : float in [0, 1], default=0.9
        Share of the contrastive target on each sample's own partner (see
        :class:`GMMFeatureExtractor`).
    temperature : float, default=0.1
        Temperature of the contrastive softmax.
    distance_temperature : float, default=0.1
        Temperature of the distance distributions of the RDP term.
    max_epochs : int, default=10
        Training epochs.
    batch_size : int, default=256
        Pairs per batch.
    lr : float, default=3e-4
        Learning rate of AdamW.
    weight_decay : float, default=1e-4
        Weight decay of AdamW.
    device : str, default="auto"
        Torch device; ``"auto"`` takes CUDA when present.
    random_state : int, RandomState instance or None, default=None
        Seeds weights and shuffling; equal seeds give identical results on CPU.
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
        Number of image columns of the input.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen during fit.
    embedding_dim_ : int
        Width of each modality's output.
    n_epochs_ : int
        Epochs trained; fewer than ``max_epochs`` when training was
        interrupted (an ``InterruptedFitWarning`` says so).
    net_ : skorch.NeuralNet
        The trained heads.

    See Also
    --------
    GMMFeatureExtractor : The shared space this aligner usually refines.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.compose import ColumnTransformer
    >>> from sklearn.pipeline import make_pipeline
    >>> from skgcrdp import RelativeDistanceAligner
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_classes=4, random_state=0)
    >>> per_modality_pca = ColumnTransformer([
    ...     ("img", PCA(8), slice(0, 20)), ("txt", PCA(8), slice(20, 35))])
    >>> model = make_pipeline(per_modality_pca,
    ...                       RelativeDistanceAligner(max_epochs=5, random_state=0))
    >>> model.fit_transform(X, y).shape
    (200, 16)
    """

    _parameter_constraints = {
        **SharedSpaceTransformer._parameter_constraints,
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "residual": ["boolean"],
        "rdp_weight": [Interval(Real, 0, None, closed="left")],
        "contrastive_weight": [Interval(Real, 0, None, closed="left")],
        "distance_temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        n_image_features=None,
        *,
        embedding_dim=None,
        hidden_dim=256,
        n_hidden_layers=0,
        dropout=0.0,
        residual=True,
        rdp_weight=1.0,
        contrastive_weight=1.0,
        instance_weight=0.9,
        temperature=0.1,
        distance_temperature=0.1,
        max_epochs=10,
        batch_size=256,
        lr=3e-4,
        weight_decay=1e-4,
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
        self.residual = residual
        self.rdp_weight = rdp_weight
        self.contrastive_weight = contrastive_weight
        self.instance_weight = instance_weight
        self.temperature = temperature
        self.distance_temperature = distance_temperature
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir

    def fit(self, X, y):
        """Train the heads to preserve relative distances across the modalities.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Image embeddings, then text embeddings, of each pair.
        y : array-like of shape (n_pairs,)
            Class of each pair: the prototypes and the contrastive term use it.

        Returns
        -------
        self : RelativeDistanceAligner
            This aligner, fitted.
        """
        self._validate_params()
        # Without n_image_features, equal halves: the layout every shared-space stage outputs.
        X, y, self.n_image_features_ = validate_cross_modal(self, X, y, reset=True, split="halves")
        self.classes_, labels = encode_labels(y)
        self.net_ = train_net(self, X, labels, training_pairs(X, self.n_image_features_, None))
        self.n_epochs_ = warn_if_interrupted(self)
        self.embedding_dim_ = module_output_width(self.net_.module_)
        return self

    def _module_params(self, n_image, n_text):
        return dict(
            n_image_features=n_image,
            n_text_features=n_text,
            embedding_dim=self.embedding_dim or min(n_image, n_text),
            hidden_dim=self.hidden_dim,
            n_hidden_layers=self.n_hidden_layers,
            dropout=self.dropout,
            residual=self.residual,
        )

    def _criterion(self):
        return RelativeDistanceLoss, dict(
            temperature=self.temperature,
            distance_temperature=self.distance_temperature,
            rdp_weight=self.rdp_weight,
            contrastive_weight=self.contrastive_weight,
            instance_weight=self.instance_weight,
        )
