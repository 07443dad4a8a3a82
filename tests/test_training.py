"""Training underneath the trained stages: devices, progress output, guards, interruption, checkpoints."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from skorch.history import History

from skgcrdp import GMMFeatureExtractor, RelativeDistanceAligner
from skgcrdp._training import StopOnNonFiniteLoss, TwoTowerNet
from skgcrdp.exceptions import NonFiniteLossError
from skgcrdp.utils import resolve_device

from .conftest import FAST


def test_auto_device_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cuda:1") == "cuda:1"


def test_verbose_prints_skorch_epoch_table(synthetic, capsys):
    X, y, n_image = synthetic
    GMMFeatureExtractor(n_image, random_state=0, **FAST).fit(X, y)
    assert capsys.readouterr().out == ""
    GMMFeatureExtractor(n_image, random_state=0, verbose=1, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "epoch" in out and "train_loss" in out


def test_non_finite_loss_stops_training_with_advice():
    class Net:
        history = History()

    guard = StopOnNonFiniteLoss("GMMFeatureExtractor")
    Net.history.new_epoch()
    for loss in (1.0, 0.5):
        Net.history.new_batch()
        Net.history.record_batch("train_loss", loss)
    guard.on_epoch_end(Net())
    Net.history.new_batch()
    Net.history.record_batch("train_loss", float("nan"))
    with pytest.raises(NonFiniteLossError, match="nan in epoch 1.*learning rate.*temperature.*standardise"):
        guard.on_epoch_end(Net())


def _ctrl_c_at(monkeypatch, epoch):
    """Press Ctrl-C at the end of ``epoch`` (before the callbacks save it)."""
    original = TwoTowerNet.on_epoch_end

    def on_epoch_end(net, *args, **kwargs):
        original(net, *args, **kwargs)
        if len(net.history) == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(TwoTowerNet, "on_epoch_end", on_epoch_end)


def _count_epochs(monkeypatch):
    """Record each epoch that a fit trains."""
    trained = []
    original = TwoTowerNet.on_epoch_begin

    def on_epoch_begin(net, *args, **kwargs):
        original(net, *args, **kwargs)
        trained.append(len(net.history))

    monkeypatch.setattr(TwoTowerNet, "on_epoch_begin", on_epoch_begin)
    return trained


@pytest.mark.parametrize("estimator", [
    lambda n: GMMFeatureExtractor(n, random_state=0, **{**FAST, "max_epochs": 5}),
    lambda n: RelativeDistanceAligner(n, random_state=0, max_epochs=5, device="cpu"),
])
def test_interrupted_fit_is_usable_and_says_so(synthetic, monkeypatch, estimator):
    from skgcrdp.exceptions import InterruptedFitWarning

    X, y, n_image = synthetic
    model = estimator(n_image)
    _ctrl_c_at(monkeypatch, 2)
    trained = _count_epochs(monkeypatch)
    with pytest.warns(InterruptedFitWarning, match="interrupted after 2 of 5 epochs"):
        model.fit(X, y)
    assert model.n_epochs_ == 2 and trained == [1, 2]
    Z = model.transform(X)
    assert np.isfinite(Z).all()
    if isinstance(model, GMMFeatureExtractor):
        assert model.image_prototypes_.shape[0] > 0


def test_checkpoint_resumes_an_interrupted_fit(synthetic, tmp_path, monkeypatch):
    from skgcrdp.exceptions import InterruptedFitWarning

    X, y, n_image = synthetic
    params = dict(FAST, max_epochs=5)
    with monkeypatch.context() as patch:
        _ctrl_c_at(patch, 2)
        with pytest.warns(InterruptedFitWarning):
            GMMFeatureExtractor(n_image, random_state=0, checkpoint_dir=tmp_path, **params).fit(X, y)
    (folder,) = tmp_path.iterdir()
    assert {"params.pt", "optimizer.pt", "history.json"} <= {f.name for f in folder.iterdir()}
    # The interrupt came before the second epoch's save: one epoch is on disk.
    saved = len(json.loads((folder / "history.json").read_text()))
    assert saved == 1

    trained = _count_epochs(monkeypatch)
    resumed = GMMFeatureExtractor(n_image, random_state=0, checkpoint_dir=tmp_path, **params).fit(X, y)
    assert resumed.n_epochs_ == 5 and len(trained) == 5 - saved  # only the epochs left
    assert np.isfinite(resumed.transform(X)).all() and resumed.image_prototypes_.shape[0] > 0
    # Training longer goes on from the same checkpoint.
    longer = GMMFeatureExtractor(n_image, random_state=0, checkpoint_dir=tmp_path,
                                 **dict(params, max_epochs=7)).fit(X, y)
    assert longer.n_epochs_ == 7 and len(trained) == 5 - saved + 2
    assert len(list(tmp_path.iterdir())) == 1


def test_checkpoint_folders_differ_by_parameters_and_data(synthetic, tmp_path):
    X, y, n_image = synthetic
    for temperature, rows in ((0.5, slice(None)), (0.2, slice(None)), (0.5, slice(0, 120))):
        GMMFeatureExtractor(n_image, random_state=0, checkpoint_dir=tmp_path, temperature=temperature,
                            **FAST).fit(X[rows], y[rows])
    assert len(list(tmp_path.iterdir())) == 3


def test_without_checkpoint_dir_nothing_is_written(synthetic, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y, n_image = synthetic
    GMMFeatureExtractor(n_image, random_state=0, **FAST).fit(X, y)
    assert list(tmp_path.iterdir()) == []


def test_read_only_input_trains_and_embeds_without_a_warning():
    # joblib hands large inputs to parallel fits as read-only memory maps; the
    # fit shares their memory and writes nothing, so there is nothing to warn
    # about. torch warns once per process, hence a fresh interpreter.
    code = (
        "import warnings; warnings.simplefilter('error')\n"
        "import numpy as np\n"
        "from skgcrdp import GMMFeatureExtractor\n"
        "from skgcrdp.datasets import make_multimodal_classification\n"
        "X, y = make_multimodal_classification(n_classes=3, random_state=0)\n"
        "X = X.astype(np.float32); X.flags.writeable = False\n"
        "model = GMMFeatureExtractor(20, embedding_dim=8, standardize=False, max_epochs=2,\n"
        "                            device='cpu', random_state=0).fit(X, y)\n"
        "print(model.transform(X).shape)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(150, 16)"
