"""The few-shot cross-modal retrieval benchmark: GCRDP against baselines.

``python -m skgcrdp.benchmark`` (also ``skgcrdp-benchmark``) runs it from
the command line; :func:`run_benchmark` and :func:`summarize` run it from
Python.

Examples
--------
>>> from skgcrdp.benchmark import run_benchmark, summarize
>>> results = run_benchmark(shots=[5], n_episodes=1, progress=False,
...                         methods=["PLS", "random projection"])
>>> summary = summarize(results)
>>> list(summary.index)
[('5', 'PLS'), ('5', 'random projection')]
>>> bool(summary.loc[("5", "PLS"), "mean"] > summary.loc[("5", "random projection"), "mean"])
True
"""

from ._datasets import BenchmarkData, default_episodes, load_benchmark_data
from ._methods import METHODS, Method
from ._protocol import compare_data_sets, run_benchmark, summarize
from ._report import format_markdown, format_text, plot_summary
from ._typed_queries import class_queries

__all__ = [
    "METHODS",
    "BenchmarkData",
    "Method",
    "class_queries",
    "compare_data_sets",
    "default_episodes",
    "format_markdown",
    "format_text",
    "load_benchmark_data",
    "plot_summary",
    "run_benchmark",
    "summarize",
]
