"""What the trained shared-space stages (extract and align) have in common."""

import os
import warnings
from numbers import Integral, Real
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Checkpoint

from ._training import (
    StopOnNonFiniteLoss,
    build_net,
    draw_seed,
    embed_numpy,
    module_output_width,
    seeded_torch,
    worker_torch_threads,
)
from .exceptions import InterruptedFitWarning
from .nn import ModalityHeads
from .utils import (
    SharedSpaceNamesMixin,
    check_min_classes,
    check_modality,
    check_no_overflow,
    rows_in_parallel,
    validate_cross_modal,
    validate_one_modality,
)
from .utils._compat import Interval

__all__ = ["SharedSpaceTransformer", "StandardizedInputsMixin"]


# Rows per block when fitting the scalers: ``StandardScaler.fit`` works on a
# float64 copy of its whole input, which for a large float32 input is twice
# the input; block by block that copy is bounded.
SCALER_BLOCK_ROWS = 65536


def _fit_scaler(X):
    """A ``StandardScaler`` fitted on ``X`` in blocks of rows (one block: exactly ``fit``)."""
    scaler = StandardScaler()
    for start in range(0, max(len(X), 1), SCALER_BLOCK_ROWS):
        scaler.partial_fit(X[start : start + SCALER_BLOCK_ROWS])
    return scaler


class StandardizedInputsMixin:
    """Standardise each modality before the networks when ``standardize`` is true."""

    def _fit_preprocessing(self, X_image, X_text):
        if self.standardize:
            check_no_overflow(X_image, "The image part of X")
            check_no_overflow(X_text, "The text part of X")
        self.scalers_ = (
            {"image": _fit_scaler(X_image), "text": _fit_scaler(X_text)}
            if self.standardize
            else None
        )

    def _preprocess(self, modality, X):
        if self.scalers_ is None:
            return X
        return self.scalers_[modality].transform(X)


class SharedSpaceTransformer(SharedSpaceNamesMixin, TransformerMixin, BaseEstimator):
    """Base of the estimators that map [image | text] into a shared space.

    Subclasses set ``_split`` (how the input split is found), implement
    ``_preprocess(modality, X)`` (applied before the network),
    ``_module_params(n_image, n_text)``, ``_criterion()`` (the loss class
    and its parameters) and may add
    callbacks through ``_callbacks(X_image, X_text, y, seed)``.
    """

    _split = "given"
    # The torch module of the two modality networks (built from _module_params).
    _module = ModalityHeads

    # Parameters both trained stages share; subclasses add their own.
    _parameter_constraints = {
        "n_image_features": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "n_hidden_layers": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "instance_weight": [Interval(Real, 0, 1, closed="both")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "checkpoint_dir": [str, os.PathLike, None],
    }

    def _preprocess(self, modality, X):
        return X

    def _callbacks(self, X_image, X_text, y, seed):
        return []

    def _after_fit(self):
        """Hook run once the network is trained."""

    def _fit_preprocessing(self, X_image, X_text):
        """Hook that fits what ``_preprocess`` uses."""

    def fit(self, X, y):
        """Train the modality networks on paired data.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Image features, then text features, of each pair.
        y : array-like of shape (n_pairs,)
            Class label of each pair.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y, n_image = validate_cross_modal(self, X, y, reset=True, split=self._split)
        self.n_image_features_ = n_image
        check_min_classes(y)
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        y_encoded = y_encoded.astype(np.int64)

        X_image, X_text = X[:, :n_image], X[:, n_image:]
        self._fit_preprocessing(X_image, X_text)
        # At most one copy of the input: standardising makes it, and a float32
        # result is used as it is (on the CPU the network reads it in place).
        X_image = self._preprocess("image", X_image).astype(np.float32, copy=False)
        X_text = self._preprocess("text", X_text).astype(np.float32, copy=False)

        seed = draw_seed(self.random_state)
        with worker_torch_threads(), seeded_torch(seed):
            self.net_ = self._new_net(
                X_image.shape[1],
                X_text.shape[1],
                seed=seed,
                device=self.device,
                callbacks=[
                    ("stop_on_non_finite_loss", StopOnNonFiniteLoss(type(self).__name__)),
                    *self._callbacks(X_image, X_text, y_encoded, seed),
                    *self._checkpoint_callbacks(X, y_encoded),
                ],
            )
            self._train({"image": X_image, "text": X_text}, y_encoded)
            self._after_fit()
        self.n_epochs_ = len(self.net_.history)
        if self.n_epochs_ < self.max_epochs:
            # skorch ends training quietly on Ctrl-C; say so rather than
            # hand back an undertrained model as if nothing happened.
            warnings.warn(
                f"{type(self).__name__} training was interrupted after {self.n_epochs_} of "
                f"{self.max_epochs} epochs; the estimator is fitted with the network as it was "
                "then. Fit again to train it fully.",
                InterruptedFitWarning,
                stacklevel=2,
            )
        self.embedding_dim_ = module_output_width(self.net_.module_)
        return self

    def _checkpoint_callbacks(self, X, y_encoded):
        if self.checkpoint_dir is None:
            return []
        params = {k: v for k, v in self.get_params().items()
                  if k not in ("verbose", "device", "checkpoint_dir", "max_epochs")}
        key = joblib.hash((type(self).__name__, params, X, y_encoded))
        folder = Path(self.checkpoint_dir) / f"{type(self).__name__}-{key}"
        checkpoint = Checkpoint(monitor=None, dirname=str(folder), f_criterion=None)
        return [("checkpoint", checkpoint)]

    def _train(self, data, y_encoded):
        """Train ``net_``, resuming from a checkpoint of this very fit if one exists."""
        checkpoint = dict(self.net_.callbacks).get("checkpoint")
        if checkpoint is None or not Path(checkpoint.dirname, "history.json").exists():
            self.net_.fit(data, y_encoded)
            return
        self.net_.initialize()
        self.net_.load_params(checkpoint=checkpoint)
        remaining = max(0, self.max_epochs - len(self.net_.history))
        self.net_.partial_fit(data, y_encoded, epochs=remaining)

    def _new_net(self, n_image, n_text, *, seed, device, callbacks):
        """The skorch net of this estimator's parameters, untrained."""
        # The loss goes to skorch as a class, not an instance: skorch then
        # owns it as `criterion_`, whose tensors (the mixtures) it maps to
        # the CPU when a GPU-trained model is loaded where CUDA is missing.
        criterion, criterion_params = self._criterion()
        return build_net(
            self._module,
            criterion,
            seed=seed,
            device=device,
            callbacks=callbacks,
            verbose=self.verbose,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            **{f"optimizer__{k}": v for k, v in self._optimizer_params().items()},
            **{f"module__{k}": v for k, v in self._module_params(n_image, n_text).items()},
            **{f"criterion__{k}": v for k, v in criterion_params.items()},
        )

    def _optimizer_params(self):
        """Keyword arguments of the AdamW optimiser, but the learning rate."""
        return {"weight_decay": self.weight_decay}

    def _embed(self, X, modality):
        X = self._preprocess(modality, X)
        return embed_numpy(self.net_.module_, X, modality, self.net_.device)

    @rows_in_parallel
    def transform(self, X):
        """Embed paired data into the shared space.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Image features, then text features, of each pair.

        Returns
        -------
        Z : ndarray of shape (n_pairs, 2 * embedding_dim), float32
            The image embeddings, then the text embeddings.
        """
        check_is_fitted(self)
        X, _, n_image = validate_cross_modal(self, X, reset=False)
        return np.hstack(
            [self._embed(X[:, :n_image], "image"), self._embed(X[:, n_image:], "text")]
        )

    @rows_in_parallel
    def transform_modality(self, X, modality):
        """Embed features of one modality alone.

        Use it to embed a gallery or queries that have no partner in the
        other modality; the result equals the matching half of
        :meth:`transform` on paired data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_of_that_modality)
            Image features or text features only.
        modality : {"image", "text"}
            Which modality ``X`` holds.

        Returns
        -------
        Z : ndarray of shape (n_samples, embedding_dim), float32
        """
        check_is_fitted(self)
        return self._embed(validate_one_modality(self, X, modality), check_modality(modality))

    # -- the protocol skgcrdp.save and skgcrdp.load use (as scikit-learn's
    # tools use __sklearn_tags__): the trained network travels as plain
    # tensors, never pickled.

    def __skgcrdp_weights__(self):
        """The trained network's weights (name -> ndarray) and the device it was on."""
        check_is_fitted(self)
        module = self.net_.module_
        return ({k: v.detach().cpu().numpy() for k, v in module.state_dict().items()},
                str(self.net_.device))

    def _weight_shapes(self, n_tensors):
        """The shape of every weight the fitted parameters describe, found without allocating them.

        The network is built on torch's ``meta`` device, which holds shapes
        and no data, so parameters read from an untrusted file cannot make
        this allocate anything; ``n_tensors``, the number of tensors the file
        holds, bounds the layers built (two tensors per linear layer).
        """
        if not 0 <= 2 * (self.n_hidden_layers + 1) <= n_tensors:
            raise ValueError(
                f"the parameters of {type(self).__name__} describe {self.n_hidden_layers} hidden "
                f"layers per modality, but the file holds {n_tensors} weight tensors"
            )
        n_image = self.n_image_features_
        params = self._module_params(n_image, self.n_features_in_ - n_image)
        with torch.device("meta"):
            module = self._module(**params)
        return {k: tuple(v.shape) for k, v in module.state_dict().items()}

    def __skgcrdp_set_weights__(self, weights, device):
        """Rebuild ``net_`` on ``device`` from weights; ValueError when they do not fit.

        The shapes the fitted parameters describe are compared with the
        weights' before the network is built, so that only a network whose
        every tensor came from the weights is ever allocated.
        """
        expected = self._weight_shapes(len(weights))
        found = {k: tuple(np.shape(v)) for k, v in weights.items()}
        if expected != found:
            wrong = sorted(k for k in set(expected) | set(found) if expected.get(k) != found.get(k))
            raise ValueError(
                f"the weights of {type(self).__name__} do not fit the network its saved "
                f"parameters describe ({wrong[:3]}: expected "
                f"{[expected.get(k) for k in wrong[:3]]}, found {[found.get(k) for k in wrong[:3]]})"
            )
        n_image = self.n_image_features_
        net = self._new_net(n_image, self.n_features_in_ - n_image, seed=0, device=device,
                            callbacks=[]).initialize()
        net.module_.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        net.module_.eval()
        self.net_ = net

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
