"""Determinism and persistence across processes; loading a CUDA-trained model on CPU."""

import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch
from joblib import Parallel, delayed

from skgcrdp import make_gcrdp_pipeline

from .conftest import FAST

# On the CPU: these tests compare fits bit for bit, which only CPU training
# promises (GPU training is checked by scripts/device_check.py).
PARAMS = {f"extract__{k}": v for k, v in FAST.items()} | {
    "align__max_epochs": 2,
    "extract__device": "cpu",
    "align__device": "cpu",
}


def _fit(X, y, seed=0):
    return make_gcrdp_pipeline(20, random_state=seed, **PARAMS).fit(X, y)


def _run_python(code, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_same_seed_gives_identical_embeddings_in_a_fresh_process(synthetic, tmp_path):
    X, y, _ = synthetic
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    _run_python(f"""
        import numpy as np, torch
        from skgcrdp import make_gcrdp_pipeline
        torch.set_num_threads(1)
        X, y = np.load({str(tmp_path / "X.npy")!r}), np.load({str(tmp_path / "y.npy")!r})
        pipe = make_gcrdp_pipeline(20, random_state=0, **{PARAMS!r}).fit(X, y)
        np.save({str(tmp_path / "Z.npy")!r}, pipe[:-1].transform(X))
        np.save({str(tmp_path / "score.npy")!r}, pipe.score(X, y))
    """, tmp_path)
    pipe = _fit(X, y)
    np.testing.assert_array_equal(np.load(tmp_path / "Z.npy"), pipe[:-1].transform(X))
    assert float(np.load(tmp_path / "score.npy")) == pipe.score(X, y)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_saved_pipeline_gives_identical_outputs_in_a_fresh_process(dump, synthetic, tmp_path):
    X, y, _ = synthetic
    pipe = _fit(X, y)
    path = tmp_path / "pipe.bin"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(pipe))
        load = f"pickle.loads(open({str(path)!r}, 'rb').read())"
    else:
        joblib.dump(pipe, path)
        load = f"joblib.load({str(path)!r})"
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    _run_python(f"""
        import pickle, joblib, numpy as np
        X, y = np.load({str(tmp_path / "X.npy")!r}), np.load({str(tmp_path / "y.npy")!r})
        pipe = {load}
        np.save({str(tmp_path / "Z.npy")!r}, pipe[:-1].transform(X))
        np.save({str(tmp_path / "nn.npy")!r}, pipe[-1].kneighbors(pipe[:-1].transform(X))[1])
        np.save({str(tmp_path / "score.npy")!r}, pipe.score(X, y))
    """, tmp_path)
    Z = pipe[:-1].transform(X)
    np.testing.assert_array_equal(np.load(tmp_path / "Z.npy"), Z)
    np.testing.assert_array_equal(np.load(tmp_path / "nn.npy"), pipe[-1].kneighbors(Z)[1])
    assert float(np.load(tmp_path / "score.npy")) == pipe.score(X, y)


@pytest.mark.filterwarnings("ignore:Setting self.device = cpu")
def test_model_trained_on_cuda_loads_and_runs_on_a_cpu_only_machine(synthetic, monkeypatch):
    # No GPU here: train on CPU, mark the nets as CUDA ones (what a GPU fit
    # leaves behind), then unpickle where CUDA is unavailable. skorch maps
    # the weights to the CPU on load; embeddings must not change.
    X, y, _ = synthetic
    pipe = _fit(X, y)
    expected = pipe[:-1].transform(X)
    for step in (pipe[0], pipe[1]):
        step.net_.device = "cuda"
    data = pickle.dumps(pipe)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="no CUDA devices are available"):
        loaded = pickle.loads(data)
    assert str(loaded[0].net_.device) == "cpu" and str(loaded[1].net_.device) == "cpu"
    np.testing.assert_array_equal(loaded[:-1].transform(X), expected)


class _TensorSpotter(pickle.Pickler):
    """A pickler that records every tensor pickled the plain way.

    skorch saves its device-dependent attributes (module, criterion,
    optimizer) with ``torch.save`` into bytes before pickle sees them, and
    maps them to an available device on load; a tensor pickle meets
    directly is restored on the device it was saved from, which fails for a
    CUDA tensor on a machine without CUDA.
    """

    def __init__(self, file):
        super().__init__(file)
        self.tensors = []

    # The batch sampler's random generator is a CPU one by construction; its
    # state pickles as a byte tensor of this shape, and loads anywhere.
    GENERATOR_STATE = torch.Generator().get_state().shape

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor):
            if not (obj.dtype == torch.uint8 and obj.shape == self.GENERATOR_STATE):
                self.tensors.append(tuple(obj.shape))
        return NotImplemented


def test_no_tensor_of_a_fitted_pipeline_escapes_the_device_mapping_on_load(synthetic):
    # On a GPU, the criterion's mixtures were once kept in the net's
    # `criterion` parameter too, and unpickling such a model without CUDA
    # failed (found by scripts/device_check.py on an H200).
    import io

    X, y, _ = synthetic
    spotter = _TensorSpotter(io.BytesIO())
    spotter.dump(_fit(X, y))
    assert spotter.tensors == []


def test_fits_in_parallel_threads_share_no_random_state(synthetic):
    # Fits in parallel threads (joblib's threading backend) give exactly
    # what they give alone, in any order.
    X, y, _ = synthetic
    alone = [_fit(X, y, seed)[:-1].transform(X) for seed in (0, 1)]
    together = Parallel(n_jobs=2, backend="threading")(
        delayed(lambda s: _fit(X, y, s)[:-1].transform(X))(seed) for seed in (1, 0, 1, 0)
    )
    for got, seed in zip(together, (1, 0, 1, 0)):
        np.testing.assert_array_equal(got, alone[seed])


def test_grid_search_in_two_processes_equals_one(synthetic):
    from sklearn.model_selection import GridSearchCV

    from skgcrdp.model_selection import ClassDisjointSplit

    X, y, _ = synthetic
    grid = {"extract__temperature": [0.2, 0.5]}
    cv = ClassDisjointSplit(n_splits=2, random_state=0)
    scores = [
        GridSearchCV(make_gcrdp_pipeline(20, random_state=0, **PARAMS), grid, cv=cv, n_jobs=n_jobs)
        .fit(X, y).cv_results_["mean_test_score"]
        for n_jobs in (1, 2)
    ]
    np.testing.assert_array_equal(scores[0], scores[1])
