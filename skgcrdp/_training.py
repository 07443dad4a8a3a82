"""Training underneath the trained estimators: the steps their ``fit`` methods call.

A trained stage's ``fit`` reads top-down as a sequence of these steps:
:func:`encode_labels`, :func:`fit_scalers` and :func:`training_pairs`
prepare the pairs; :func:`training_session` seeds torch for the fit;
:func:`new_training_net` makes the skorch net (:func:`build_net`,
:func:`checkpoint_callbacks`); a :class:`TrainingRun` trains it one epoch
at a time, so that a stage can run a step of its own between epochs (the
extractor's mixture refits) where its ``fit`` shows it; :func:`train_net`
does all of that for a stage that runs nothing between epochs; and
:func:`warn_if_interrupted` ends a fit.
Below that lie skorch's net with a device-side batch loop
(:class:`TwoTowerNet`), seeds, devices and embedding in blocks.
"""

import contextlib
import math
import numbers
import threading
import warnings
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from skorch import NeuralNet
from skorch.callbacks import Callback, Checkpoint

from .exceptions import InterruptedFitWarning, NonFiniteLossError
from .utils import check_min_classes, check_no_overflow, resolve_device, worker_threads

__all__ = [
    "DeviceBatches",
    "StopOnNonFiniteLoss",
    "TrainingRun",
    "TwoTowerNet",
    "as_device_tensor",
    "build_net",
    "check_float32_range",
    "checkpoint_callbacks",
    "draw_seed",
    "embed_numpy",
    "embed_tensor",
    "encode_labels",
    "fit_scalers",
    "module_output_width",
    "new_training_net",
    "scale",
    "seeded_torch",
    "train_net",
    "training_pairs",
    "training_session",
    "warn_if_interrupted",
    "worker_torch_threads",
]

MODALITIES = ("image", "text")


def encode_labels(y):
    """Check that ``y`` holds enough classes; return them and each pair's class code (int64)."""
    check_min_classes(y)
    classes, codes = np.unique(y, return_inverse=True)
    return classes, codes.astype(np.int64)


# Rows per block when fitting the scalers: ``StandardScaler.fit`` works on a
# float64 copy of its whole input, which for a large float32 input is twice
# the input; block by block that copy is bounded.
SCALER_BLOCK_ROWS = 65536


def _fit_scaler(X):
    """Fit a ``StandardScaler`` on ``X`` in blocks of rows (one block: exactly ``fit``)."""
    scaler = StandardScaler()
    for start in range(0, max(len(X), 1), SCALER_BLOCK_ROWS):
        scaler.partial_fit(X[start : start + SCALER_BLOCK_ROWS])
    return scaler


def fit_scalers(X, n_image):
    """Fit a standard scaler per modality of the pairs ``X`` (``n_image`` image columns first)."""
    parts = {"image": X[:, :n_image], "text": X[:, n_image:]}
    for modality, part in parts.items():
        check_no_overflow(part, f"The {modality} part of X")
    return {modality: _fit_scaler(part) for modality, part in parts.items()}


def scale(scalers, modality, X):
    """Standardise features of ``modality`` with ``scalers`` (None leaves them as they are)."""
    return X if scalers is None else scalers[modality].transform(X)


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_range(X, input_name):
    """Raise when ``X`` holds values beyond float32's range, in which the networks compute.

    Such a value would turn into infinity when cast and into NaN in the
    network, and a later step would report that as "contains NaN".
    """
    if X.dtype != np.float32 and X.size:
        largest = max(abs(float(np.max(X))), abs(float(np.min(X))))
        if largest > FLOAT32_MAX:
            raise ValueError(
                f"{input_name} holds values up to {largest:.3g}, beyond float32's range "
                f"(about {FLOAT32_MAX:.2g}), in which the networks compute. "
                "Rescale the features."
            )
    return X


def training_pairs(X, n_image, scalers):
    """Split the pairs ``X`` into the float32 array of each modality that the networks read.

    At most one copy of the input is made: standardising makes it, and a
    float32 result is used as it is (on the CPU the network reads it in
    place).
    """
    parts = {"image": X[:, :n_image], "text": X[:, n_image:]}
    parts = {m: check_float32_range(scale(scalers, m, part), f"The {m} part of X")
             for m, part in parts.items()}
    return {m: part.astype(np.float32, copy=False) for m, part in parts.items()}


@contextlib.contextmanager
def training_session(seed):
    """Train inside this block: torch seeded with ``seed``, on a dask worker's threads only."""
    with worker_torch_threads(), seeded_torch(seed):
        yield


def checkpoint_callbacks(estimator, X, labels):
    """Return skorch's ``Checkpoint`` in a folder of its own when ``checkpoint_dir`` is set.

    The folder's name hashes the estimator's parameters (but those that do
    not change what is trained) and the training data, so that parallel
    fits never share files and a later fit of the same estimator on the same
    data finds its checkpoint.
    """
    if estimator.checkpoint_dir is None:
        return []
    params = {k: v for k, v in estimator.get_params().items()
              if k not in ("verbose", "device", "checkpoint_dir", "max_epochs")}
    name = type(estimator).__name__
    key = joblib.hash((name, params, X, labels))
    folder = Path(estimator.checkpoint_dir) / f"{name}-{key}"
    return [("checkpoint", Checkpoint(monitor=None, dirname=str(folder), f_criterion=None))]


class TrainingRun:
    """Train a skorch net one epoch at a time, resuming from its checkpoint if it has one.

    skorch's ``fit`` runs all epochs in one call; a run lets the estimator's
    ``fit`` loop over the epochs itself, so that what happens between two
    epochs stands in that loop. The callbacks see one training run, as under
    ``fit``: ``on_train_begin`` once, then each epoch, then ``on_train_end``
    (:meth:`finish`). Ctrl-C ends the run quietly, as it ends skorch's
    ``fit``; :attr:`interrupted` then says so.

    Parameters
    ----------
    net : skorch.NeuralNet
        An untrained net; initialised here, from its checkpoint when a
        ``"checkpoint"`` callback has one on disk.
    pairs : dict of {"image", "text"} to ndarray
        The training pairs of each modality (:func:`training_pairs`); they
        move to the net's device once.
    labels : ndarray of shape (n_pairs,)
        Class code of each pair.
    """

    def __init__(self, net, pairs, labels):
        self.net = net.initialize()
        self.pairs = {m: as_device_tensor(v, net.device) for m, v in pairs.items()}
        self.labels = as_device_tensor(labels, net.device)
        self.interrupted = False
        checkpoint = dict(net.callbacks_).get("checkpoint")
        if checkpoint is not None and Path(checkpoint.dirname, "history.json").exists():
            net.load_params(checkpoint=checkpoint)
        # The first epoch of this run: 0, or the epochs a checkpoint already holds.
        self.first_epoch = len(net.history)
        net.notify("on_train_begin", X=self.pairs, y=self.labels)

    def train_epoch(self):
        """Train one epoch; return False when Ctrl-C interrupted it."""
        try:
            self.net.fit_loop(self.pairs, self.labels, epochs=1)
        except KeyboardInterrupt:
            self.interrupted = True
        return not self.interrupted

    def train_epochs(self, until):
        """Train the epochs left up to epoch ``until``, or until Ctrl-C."""
        for _ in range(self.first_epoch, until):
            if not self.train_epoch():
                break

    def finish(self):
        """End the run as skorch's ``fit`` ends: ``on_train_end`` for the callbacks."""
        self.net.notify("on_train_end", X=self.pairs, y=self.labels)
        self.pairs = self.labels = None


def new_training_net(estimator, X, labels, pairs, seed):
    """Build ``estimator``'s untrained net for the pairs, checkpointed when it asks for it."""
    return estimator._new_net(pairs["image"].shape[1], pairs["text"].shape[1], seed=seed,
                              device=estimator.device,
                              callbacks=checkpoint_callbacks(estimator, X, labels))


def train_net(estimator, X, labels, pairs):
    """Build ``estimator``'s net and train it for its ``max_epochs`` epochs, or until Ctrl-C.

    For the stages that run nothing of their own between epochs: the
    extractor writes this loop out, with its mixture refits in it.
    """
    seed = draw_seed(estimator.random_state)
    with training_session(seed):
        net = new_training_net(estimator, X, labels, pairs, seed)
        run = TrainingRun(net, pairs, labels)
        run.train_epochs(until=estimator.max_epochs)
        run.finish()
    return net


def warn_if_interrupted(estimator):
    """Return the epochs ``estimator.net_`` trained, warning when they are fewer than asked."""
    n_epochs = len(estimator.net_.history)
    if n_epochs < estimator.max_epochs:
        # skorch ends training quietly on Ctrl-C; say so rather than hand
        # back an undertrained model as if nothing happened.
        name = type(estimator).__name__
        warnings.warn(
            f"{name} training was interrupted after {n_epochs} of {estimator.max_epochs} "
            "epochs; the estimator is fitted with the network as it was then. Fit again to "
            "train it fully.",
            InterruptedFitWarning,
            stacklevel=3,
        )
    return n_epochs


def draw_seed(random_state):
    """An int seed drawn from an sklearn ``random_state``."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state) % (2**31)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


# Dropout and weight initialisation draw from torch's one global generator.
# Fits in threads of one process (joblib's threading backend, a user's own
# pool) would interleave their draws and lose reproducibility, so a fit
# holds this lock while it owns the generator: threads take turns.
_GLOBAL_GENERATOR = threading.RLock()


@contextlib.contextmanager
def worker_torch_threads():
    """On a dask worker, let torch use the worker's threads, not every core.

    A worker process with one thread that let torch start a thread per core
    would oversubscribe the machine as soon as two workers train at once.
    Outside a worker nothing changes.
    """
    threads = worker_threads()
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def seeded_torch(seed):
    """Seed torch for the block and restore the global generator afterwards.

    The caller's random state is neither seen nor disturbed, and fits in
    other threads wait (see ``_GLOBAL_GENERATOR``); processes, as
    ``GridSearchCV(n_jobs=...)`` uses by default, share nothing anyway.
    """
    with _GLOBAL_GENERATOR, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class StopOnNonFiniteLoss(Callback):
    """Stop training with an explanation when the loss of an epoch was not finite.

    The losses of an epoch reach the host once, at its end (see
    :class:`TwoTowerNet`), so the check runs then: a loss that turns NaN
    mid-epoch stops training at the end of that epoch.
    """

    def __init__(self, owner):
        self.owner = owner

    def on_epoch_end(self, net, **kwargs):
        losses = net.history[-1, "batches", :, "train_loss"] if net.history[-1]["batches"] else []
        bad = [loss for loss in losses if not math.isfinite(loss)]
        if bad:
            raise NonFiniteLossError(
                f"{self.owner} training loss became {bad[0]} in epoch {len(net.history)}. "
                "Likely causes: a learning rate too high (lower lr), a temperature "
                "too small (raise temperature), or unscaled inputs with huge values "
                "(standardise them)."
            )


def as_device_tensor(array, device):
    """``array`` as a tensor on ``device``, sharing its memory on the CPU.

    A read-only array (a memory map, as joblib hands large inputs to parallel
    fits) is shared too: torch warns that writing to such a tensor would be
    undefined, and nothing here writes to it.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.as_tensor(array, device=device)


class DeviceBatches:
    """The training batches of a fit, sliced from tensors that moved to the device once.

    The pairs are shuffled as torch's ``RandomSampler`` shuffles them with the
    same seeded generator (it draws two permutations an epoch and keeps the
    first), and the global generator advances as under a data loader, so the
    batches, and on the CPU the fit, are those of the data loader this
    replaces; but no batch is gathered on the host and copied
    to the device, and a CPU fit shares the input's memory instead of
    copying it.
    """

    def __init__(self, X, y, batch_size, generator, device):
        self.X = {k: as_device_tensor(v, device) for k, v in X.items()}
        self.y = as_device_tensor(y, device)
        self.batch_size = batch_size
        self.generator = generator
        self.device = device

    def __len__(self):
        return math.ceil(len(self.y) / self.batch_size)

    def __iter__(self):
        n = len(self.y)
        # A data loader draws a base seed for its workers from torch's global
        # generator each epoch; drawing it too keeps dropout's random stream,
        # and so every fit, what it was.
        torch.empty((), dtype=torch.int64).random_()
        order = torch.randperm(n, generator=self.generator)
        torch.randperm(n, generator=self.generator)
        order = order.to(self.device)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            yield {k: v[rows] for k, v in self.X.items()}, self.y[rows]


class TwoTowerNet(NeuralNet):
    """skorch's ``NeuralNet`` with a training loop that keeps the device busy.

    Training batches come from :class:`DeviceBatches`, and the losses of an
    epoch come back to the host once, at its end, instead of once per batch
    (each ``loss.item()`` waits for the GPU to finish). History, callbacks
    and everything else are skorch's.
    """

    def get_iterator(self, dataset, training=False):
        if not training:
            return super().get_iterator(dataset, training)
        return DeviceBatches(dataset.X, dataset.y, self.batch_size, self.batch_generator,
                             self.device)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            self.history.record_batch(prefix + "_batch_size", len(batch[1]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        values = torch.stack(losses).cpu().tolist() if losses else []
        for row, value in zip(self.history[-1]["batches"][-len(values):], values):
            row[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", len(values))


def build_net(module, criterion, *, seed, device, callbacks, verbose, batch_size, **params):
    """A :class:`TwoTowerNet` for two-tower training on dict batches.

    Validation splits are left to scikit-learn (``train_split=None``) and the
    shuffling generator is seeded so that CPU runs repeat exactly.
    """
    net = TwoTowerNet(
        module=module,
        criterion=criterion,
        optimizer=torch.optim.AdamW,
        train_split=None,
        batch_size=batch_size,
        device=resolve_device(device),
        callbacks=callbacks,
        verbose=verbose,
        **params,
    )
    net.batch_generator = torch.Generator().manual_seed(seed)
    return net


# Rows per block when embedding on the CPU: a block's activations (a few MB)
# then reuse memory the allocator already holds, where larger blocks get fresh
# pages from the system each time, and their page faults made embedding 20,000
# rows 1.6x slower. A GPU takes large blocks.
CPU_EMBED_ROWS = 2048
DEVICE_EMBED_ROWS = 65536


@torch.no_grad()
def embed_tensor(module, X, modality, batch_size=None):
    """Embed a tensor of one modality with ``module.embed`` in eval mode, where ``X`` lies.

    ``batch_size`` rows at a time; None: a size that suits ``X``'s device.
    """
    if batch_size is None:
        batch_size = CPU_EMBED_ROWS if X.device.type == "cpu" else DEVICE_EMBED_ROWS
    was_training = module.training
    module.eval()
    try:
        out = [module.embed(X[start : start + batch_size], modality)
               for start in range(0, X.shape[0], batch_size)]
    finally:
        module.train(was_training)
    if not out:
        return X.new_empty((0, module_output_width(module)))
    return torch.cat(out)


def embed_numpy(module, X, modality, device, batch_size=8192):
    """Embed a numpy array of one modality on ``device`` in blocks of rows; float32 out.

    Only a block at a time moves to the device (:func:`embed_tensor` on each).
    """
    out = [
        embed_tensor(module, as_device_tensor(np.asarray(X[start : start + batch_size],
                                                         dtype=np.float32), device),
                     modality).cpu().numpy()
        for start in range(0, X.shape[0], batch_size)
    ]
    if not out:
        return np.empty((0, module_output_width(module)), dtype=np.float32)
    return np.concatenate(out)


def module_output_width(module):
    """Return the width of each modality's embedding in a two-tower module."""
    return module.embedding_dim
