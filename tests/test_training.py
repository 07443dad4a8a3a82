"""Training underneath: devices, progress output, guards, mixtures."""

import json

import numpy as np
import pytest
import torch
from skorch.history import History

from skgcrdp import GMMFeatureExtractor
from skgcrdp._training import StopOnNonFiniteLoss
from skgcrdp.exceptions import NonFiniteLossError
from skgcrdp.extraction import _n_components_for as n_components_for
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
    guard.on_batch_end(Net(), training=True, loss=torch.tensor(1.0))
    with pytest.raises(NonFiniteLossError, match="learning rate.*temperature.*standardise"):
        guard.on_batch_end(Net(), training=True, loss=torch.tensor(float("nan")))


@pytest.mark.parametrize("n_samples, wanted, expected", [(1, 3, 1), (7, 3, 1), (8, 3, 2), (100, 3, 3)])
def test_components_per_class_follow_class_size(n_samples, wanted, expected):
    assert n_components_for(n_samples, wanted) == expected


def test_prototypes_sit_among_their_class(synthetic):
    X, y, n_image = synthetic
    model = GMMFeatureExtractor(n_image, random_state=0, max_epochs=20, n_components_per_class=2).fit(X, y)
    Z = model.transform(X)
    d = model.embedding_dim_
    for protos, half in ((model.image_prototypes_, Z[:, :d]), (model.text_prototypes_, Z[:, d:])):
        nearest = np.argsort(((protos[:, None, :] - half[None]) ** 2).sum(-1), axis=1)[:, :5]
        agreement = (y[nearest] == model.prototype_labels_[:, None]).mean()
        assert agreement > 0.8


def test_mixtures_are_refitted_on_schedule(synthetic, monkeypatch):
    from skgcrdp import extraction

    calls = []
    original = extraction._RefitMixtures.refit
    monkeypatch.setattr(extraction._RefitMixtures, "refit", lambda self, net: calls.append(len(net.history)) or original(self, net))
    X, y, n_image = synthetic
    GMMFeatureExtractor(n_image, random_state=0, refit_interval=2, **(FAST | {"max_epochs": 5})).fit(X, y)
    # Before epochs 1, 3 and 5 (history rows 1, 3, 5), and once after training.
    assert calls == [1, 3, 5, 5]


def test_without_prototypes_no_mixtures_are_fitted(synthetic):
    X, y, n_image = synthetic
    model = GMMFeatureExtractor(n_image, prototype_weight=0.0, random_state=0, **FAST).fit(X, y)
    assert model.image_prototypes_.shape[0] == 0
    assert "refit_mixtures" not in dict(model.net_.callbacks_)


def _few_shot(X, y, shots_by_class):
    keep = np.concatenate([np.flatnonzero(y == c)[:k] for c, k in shots_by_class.items()])
    return X[keep], y[keep]


def test_classes_too_small_for_a_mixture_train_as_without_prototypes(synthetic):
    X, y, n_image = synthetic
    X5, y5 = _few_shot(X, y, {c: 5 for c in np.unique(y)})
    small = GMMFeatureExtractor(n_image, random_state=0, **FAST).fit(X5, y5)
    plain = GMMFeatureExtractor(n_image, prototype_weight=0.0, random_state=0, **FAST).fit(X5, y5)
    assert small.image_prototypes_.shape[0] == 0
    np.testing.assert_allclose(small.transform(X), plain.transform(X))
    # With the rule off, every class keeps its one-component "mixture", and training changes.
    every = GMMFeatureExtractor(n_image, min_pairs_for_mixture=1, random_state=0, **FAST).fit(X5, y5)
    assert every.image_prototypes_.shape[0] == len(np.unique(y))
    assert not np.allclose(every.transform(X), plain.transform(X), atol=1e-4)


def test_only_classes_with_pairs_enough_get_prototypes(synthetic):
    X, y, n_image = synthetic
    classes = np.unique(y)
    Xm, ym = _few_shot(X, y, {c: 8 if c in classes[:2] else 7 for c in classes})
    model = GMMFeatureExtractor(n_image, n_components_per_class=2, random_state=0, **FAST).fit(Xm, ym)
    assert sorted(model.prototype_labels_) == [classes[0], classes[0], classes[1], classes[1]]
    assert np.isfinite(model.transform(Xm)).all()


def test_interrupted_fit_is_usable_and_says_so(synthetic, monkeypatch):
    from skorch.callbacks import Callback

    from skgcrdp.exceptions import InterruptedFitWarning

    class CtrlC(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    X, y, n_image = synthetic
    extractor = GMMFeatureExtractor(n_image, random_state=0, **{**FAST, "max_epochs": 5})
    original = GMMFeatureExtractor._callbacks
    monkeypatch.setattr(
        GMMFeatureExtractor, "_callbacks",
        lambda self, *args: [*original(self, *args), ("ctrl_c", CtrlC())],
    )
    with pytest.warns(InterruptedFitWarning, match="interrupted after 2 of 5 epochs"):
        extractor.fit(X, y)
    assert extractor.n_epochs_ == 2
    Z = extractor.transform(X)
    assert np.isfinite(Z).all() and extractor.image_prototypes_.shape[0] > 0


def _ctrl_c_at(epoch):
    from skorch.callbacks import Callback

    class CtrlC(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == epoch:
                raise KeyboardInterrupt

    return CtrlC()


def test_checkpoint_resumes_an_interrupted_fit(synthetic, tmp_path, monkeypatch):
    from skgcrdp.exceptions import InterruptedFitWarning

    X, y, n_image = synthetic
    params = dict(FAST, max_epochs=5)
    original = GMMFeatureExtractor._callbacks
    with monkeypatch.context() as patch:
        patch.setattr(GMMFeatureExtractor, "_callbacks",
                      lambda self, *args: [*original(self, *args), ("ctrl_c", _ctrl_c_at(2))])
        with pytest.warns(InterruptedFitWarning):
            GMMFeatureExtractor(n_image, random_state=0, checkpoint_dir=tmp_path, **params).fit(X, y)
    (folder,) = tmp_path.iterdir()
    assert {"params.pt", "optimizer.pt", "history.json"} <= {f.name for f in folder.iterdir()}
    # The interrupt came before the second epoch's save: one epoch is on disk.
    saved = len(json.loads((folder / "history.json").read_text()))
    assert saved == 1

    trained = []
    monkeypatch.setattr(GMMFeatureExtractor, "_callbacks",
                        lambda self, *args: [*original(self, *args), ("count", _EpochCounter(trained))])
    resumed = GMMFeatureExtractor(n_image, random_state=0, checkpoint_dir=tmp_path, **params).fit(X, y)
    assert resumed.n_epochs_ == 5 and len(trained) == 5 - saved  # only the epochs left
    assert np.isfinite(resumed.transform(X)).all() and resumed.image_prototypes_.shape[0] > 0
    # Training longer goes on from the same checkpoint.
    longer = GMMFeatureExtractor(n_image, random_state=0, checkpoint_dir=tmp_path,
                                 **dict(params, max_epochs=7)).fit(X, y)
    assert longer.n_epochs_ == 7 and len(trained) == 5 - saved + 2
    assert len(list(tmp_path.iterdir())) == 1


def _EpochCounter(log):
    from skorch.callbacks import Callback

    class EpochCounter(Callback):
        def on_epoch_end(self, net, **kwargs):
            log.append(len(net.history))

    return EpochCounter()


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
