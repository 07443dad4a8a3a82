"""What the trained shared-space stages (extract, align, DSCMR) share once they are fitted.

Each stage's ``fit`` lives in its own module and is built from the steps of
:mod:`skgcrdp._training`; :class:`SharedSpaceTransformer` gives the stages
what a fitted one does alike: build its net from its parameters, embed
either modality, and hand its weights to :func:`skgcrdp.save`.
"""

import os
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._training import StopOnNonFiniteLoss, build_net, check_float32_range, embed_numpy, scale
from .nn import ModalityHeads
from .utils import (
    SharedSpaceNamesMixin,
    check_modality,
    rows_in_parallel,
    validate_cross_modal,
    validate_one_modality,
)
from .utils._compat import Interval

__all__ = ["SharedSpaceTransformer"]


class SharedSpaceTransformer(SharedSpaceNamesMixin, TransformerMixin, BaseEstimator):
    """Base of the trained estimators that map [image | text] into a shared space.

    A subclass defines ``fit`` and describes its network: ``_module`` (the
    torch module class), ``_module_params(n_image, n_text)``,
    ``_criterion()`` (the loss class and its parameters) and
    ``_optimizer_params()``. Its fit sets ``net_``, ``n_image_features_``,
    ``classes_``, ``n_epochs_``, ``embedding_dim_`` and, when it
    standardises its inputs, ``scalers_``.
    """

    # The torch module of the two modality networks (built from _module_params).
    _module = ModalityHeads

    # Parameters the trained stages share; subclasses add their own.
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

    def _new_net(self, n_image, n_text, *, seed, device, callbacks=()):
        """Build the skorch net of this estimator's parameters, untrained.

        Every net watches its loss (:class:`StopOnNonFiniteLoss`);
        ``callbacks`` adds to that.
        """
        # The loss goes to skorch as a class, not an instance: skorch then
        # owns it as `criterion_`, whose tensors (the mixtures) it maps to
        # the CPU when a GPU-trained model is loaded where CUDA is missing.
        criterion, criterion_params = self._criterion()
        return build_net(
            self._module,
            criterion,
            seed=seed,
            device=device,
            callbacks=[("stop_on_non_finite_loss", StopOnNonFiniteLoss(type(self).__name__)),
                       *callbacks],
            verbose=self.verbose,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            **{f"optimizer__{k}": v for k, v in self._optimizer_params().items()},
            **{f"module__{k}": v for k, v in self._module_params(n_image, n_text).items()},
            **{f"criterion__{k}": v for k, v in criterion_params.items()},
        )

    def _optimizer_params(self):
        """Return the keyword arguments of the AdamW optimiser, except the learning rate."""
        return {"weight_decay": self.weight_decay}

    def _embed(self, X, modality):
        # embed_numpy casts to float32 block by block: check the range once here.
        X = check_float32_range(scale(getattr(self, "scalers_", None), modality, X),
                                f"The {modality} part of X")
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
        """Return the trained network's weights (name -> ndarray) and the device it was on."""
        check_is_fitted(self)
        module = self.net_.module_
        return ({k: v.detach().cpu().numpy() for k, v in module.state_dict().items()},
                str(self.net_.device))

    def _weight_shapes(self, n_tensors):
        """Find the shape of every weight the fitted parameters describe, allocating none.

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
        net = self._new_net(n_image, self.n_features_in_ - n_image, seed=0,
                            device=device).initialize()
        net.module_.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        net.module_.eval()
        self.net_ = net

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
