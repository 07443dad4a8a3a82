"""The gallery's examples run as a user would run them, each drawing its figure."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("plot_*.py"))


def test_there_is_a_gallery():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_and_draws(path, capsys, monkeypatch):
    import torch

    plt = pytest.importorskip("matplotlib.pyplot")
    plt.switch_backend("Agg")
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    plt.close("all")
    # An example runs alone, as a user runs it: with both cores (the suite
    # pins one thread for its parallel fits), and back to one afterwards.
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        torch.set_num_threads(threads)
    assert capsys.readouterr().out.strip(), "an example says what it found"
    assert plt.get_fignums(), "an example draws its figure"
    plt.close("all")
