"""Training underneath the estimators: skorch nets, devices, seeds, guards."""

import contextlib
import math
import numbers
import threading
import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch import NeuralNet
from skorch.callbacks import Callback

from .exceptions import NonFiniteLossError
from .utils import resolve_device, worker_threads

__all__ = [
    "DeviceBatches",
    "as_device_tensor",
    "StopOnNonFiniteLoss",
    "TwoTowerNet",
    "build_net",
    "draw_seed",
    "embed_numpy",
    "embed_tensor",
    "module_output_width",
    "seeded_torch",
    "worker_torch_threads",
]


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
