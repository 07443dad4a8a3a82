"""Training underneath the estimators: skorch nets, devices, seeds, guards."""

import contextlib
import numbers
import threading

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch import NeuralNet
from skorch.callbacks import Callback
from torch.utils.data import BatchSampler, RandomSampler

from .exceptions import NonFiniteLossError
from .utils import resolve_device, worker_threads

__all__ = [
    "StopOnNonFiniteLoss",
    "build_net",
    "draw_seed",
    "embed_numpy",
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
    """Stop training with an explanation as soon as the loss is not finite."""

    def __init__(self, owner):
        self.owner = owner

    def on_batch_end(self, net, batch=None, training=False, loss=None, **kwargs):
        if training and loss is not None and not torch.isfinite(loss).item():
            epoch = len(net.history)
            raise NonFiniteLossError(
                f"{self.owner} training loss became {loss.item()} in epoch {epoch}. "
                "Likely causes: a learning rate too high (lower lr), a temperature "
                "too small (raise temperature), or unscaled inputs with huge values "
                "(standardise them)."
            )


class _ArrayBatchSampler(BatchSampler):
    """A ``BatchSampler`` whose batches are index arrays, not lists.

    The dataset slices its arrays with each batch; scikit-learn's indexing
    inspects a list element by element, an array at once.
    """

    def __iter__(self):
        for batch in super().__iter__():
            yield np.asarray(batch)


def build_net(module, criterion, *, seed, device, callbacks, verbose, n_samples, batch_size,
              **params):
    """A skorch ``NeuralNet`` for two-tower training on dict batches.

    Validation splits are left to scikit-learn (``train_split=None``) and the
    shuffling generator is seeded so that CPU runs repeat exactly.

    Batches are drawn whole: the loader's sampler yields a batch of indices
    and the dataset slices every array once, instead of fetching pairs one
    by one and stacking them (the per-sample path cost a fifth of the fit on
    Wikipedia-sized data). The sampler's own seeded generator shuffles, so
    CPU runs repeat exactly (the batches differ from skorch's default
    loader, which also draws its workers' seeds from that generator).
    """
    sampler = _ArrayBatchSampler(
        RandomSampler(range(n_samples), generator=torch.Generator().manual_seed(seed)),
        batch_size=batch_size,
        drop_last=False,
    )
    return NeuralNet(
        module=module,
        criterion=criterion,
        optimizer=torch.optim.AdamW,
        train_split=None,
        batch_size=batch_size,
        iterator_train__sampler=sampler,
        iterator_train__batch_size=None,
        device=resolve_device(device),
        callbacks=callbacks,
        verbose=verbose,
        **params,
    )


@torch.no_grad()
def embed_numpy(module, X, modality, device, batch_size=8192):
    """Embed one modality with ``module.embed`` in eval mode; float32 out."""
    was_training = module.training
    module.eval()
    try:
        out = []
        for start in range(0, X.shape[0], batch_size):
            batch = torch.as_tensor(
                np.asarray(X[start : start + batch_size], dtype=np.float32), device=device
            )
            out.append(module.embed(batch, modality).cpu().numpy())
    finally:
        module.train(was_training)
    if not out:
        return np.empty((0, module_output_width(module)), dtype=np.float32)
    return np.concatenate(out)


def module_output_width(module):
    """Width of each modality's embedding in a two-tower module."""
    # Modules pickled by skgcrdp 0.1 have no embedding_dim attribute.
    return getattr(module, "embedding_dim", None) or module.image[-1].out_features
