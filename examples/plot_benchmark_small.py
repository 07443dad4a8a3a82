"""
The few-shot benchmark, in small
================================

:func:`~skgcrdp.benchmark.run_benchmark` is the protocol behind
``python -m skgcrdp.benchmark``. Half of the classes are unseen in each
class-disjoint episode. Every method is fitted on the seen pairs (all of them,
or K per class) and scored by unseen-class mAP in both directions. The ratio
to the best baseline is computed per K.

Small configuration: Wikipedia, K = all and 5, two episodes, four methods,
short training. The real numbers come from the full command (see the
benchmark page of the user guide).

Run by hand: ``python examples/plot_benchmark_small.py``
(14 s on 2 CPU cores with its imports, measured 2026-12-02).
"""

import matplotlib.pyplot as plt

from skgcrdp.benchmark import format_text, plot_summary, run_benchmark, summarize

results = run_benchmark(
    "wikipedia",
    shots=[None, 5],
    n_episodes=2,
    methods=["GCRDP", "PLS", "SupCon MLP", "random projection"],
    gcrdp_params={"extract__max_epochs": 10, "align__max_epochs": 5},
    progress=False,
)
summary = summarize(results)
print(format_text(summary))

# %%
# One row per K, episode and method; failures would show in ``error``.
print(results[["K", "episode", "method", "mean", "fit_seconds"]].head(8).to_string(index=False))

# %%
# The plot the command line writes as ``results.png``.
fig = plot_summary(summary)
plt.show()
