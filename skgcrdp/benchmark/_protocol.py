"""The few-shot protocol: class-disjoint episodes, K pairs per seen class."""

import gc
import time
import traceback
import warnings
from dataclasses import replace
from numbers import Integral

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from ..extraction import GMMFeatureExtractor
from ..metrics import cross_modal_retrieval_score
from ..model_selection import ClassDisjointSplit
from ..utils import check_preprocess, resolve_device
from ._datasets import BenchmarkData, load_benchmark_data
from ._memory import PeakMemory
from ._methods import EpisodeContext, resolve_methods
from ._progress import Progress
from ._shared_fits import FitMemo, fit_sharing
from ._typed_queries import (
    ENCODERS_HINT,
    encoders_installed,
    load_typed_queries,
    supports_typed_queries,
    typed_query_map,
)

__all__ = ["compare_data_sets", "episode_work", "plan_episodes", "run_benchmark", "shots_label",
           "summarize"]

DIRECTIONS = ("image_to_text", "text_to_image")


def shots_label(shots):
    """Row label of a K: ``"all"`` or the number of pairs per class."""
    return "all" if shots is None else str(shots)


def _check_shots(shots):
    shots = list(shots)
    if not shots:
        raise ValueError("Give at least one K (pairs per seen class), or None for all pairs.")
    for k in shots:
        if k is not None and (isinstance(k, bool) or not isinstance(k, Integral) or k < 1):
            raise ValueError(f"K (pairs per seen class) must be a positive int or None, got {k!r}.")
    return list(dict.fromkeys(shots))


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    return int(value)


def run_benchmark(
    data="wikipedia",
    *,
    shots=(None, 5),
    n_episodes=5,
    methods=None,
    test_size=0.5,
    device="auto",
    random_state=0,
    gcrdp_params=None,
    label_column="label",
    preprocess=None,
    progress=True,
    n_jobs=None,
    full=False,
    typed_queries="auto",
):
    """Run the few-shot cross-modal benchmark; one row per (K, episode, method).

    In each episode a random ``test_size`` share of the classes is *unseen*
    and the rest *seen*. Every method is fitted on the seen classes' pairs
    (all of them, or ``K`` per class), embeds every unseen pair, and is
    scored by mAP@all image->text and text->image over the unseen pairs.
    All methods see the same episodes, and for every K the episodes hold the
    same seen and unseen classes (only the pairs kept per class differ).

    Within an episode, a fit that several rows contain (GCRDP's extractor
    in "GCRDP w/o alignment", GCRDP's fit on all seen pairs in "GCRDP +
    profiles", ...) is made once; the fits are seeded, so the scores are
    those of separate fits, and each row's ``fit_seconds`` counts the shared
    fits it used. Episodes run in parallel processes with ``n_jobs``.

    Parameters
    ----------
    data : "wikipedia", "openclipart", path or BenchmarkData, default="wikipedia"
        An embedded data set, or a ``.npz``/``.csv`` file (see
        :func:`load_benchmark_data`).
    shots : iterable of int or None, default=(None, 5)
        Pairs per seen class; None keeps all.
    n_episodes : int, default=5
        Class-disjoint episodes per K.
    methods : list of str, default=None
        Names from :data:`METHODS`; None runs the default ones (all with
        ``full``).
    test_size : float or int, default=0.5
        Unseen share (or number) of classes per episode.
    device : str, default="auto"
        Torch device of the trained methods.
    random_state : int, default=0
        Seeds the episodes; episode ``e`` seeds its models with
        ``random_state + e``.
    gcrdp_params : dict, default=None
        ``make_gcrdp_pipeline`` parameters (e.g. ``{"extract__max_epochs":
        5}``) for GCRDP, its ablations and the SupCon MLP, which share the
        extractor.
    label_column : str, default="label"
        Label column of a CSV ``data`` file.
    preprocess : ModalityTransformer, default=None
        Per-modality preprocessing in front of *every* method (so that all
        compare on the same inputs), fitted on each episode's seen pairs and
        counted in the fit time. Without its own ``n_image_features`` it
        takes the data set's.
    progress : bool or Progress, default=True
        Print a line on stderr as each K is done, with the elapsed time and
        an estimate of the time left; a :class:`Progress` shared by several
        runs estimates over all of them.
    n_jobs : int, default=None
        Episodes run at once, each in its own process with one torch
        thread; None runs one at a time in this process, -1 one per core.
        Scores do not depend on it.
    full : bool, default=False
        With ``methods=None``, run every method, not only the default ones.
    typed_queries : bool or "auto", default="auto"
        Also score typed queries (column ``typed_query_map``): each unseen
        class's name typed in three phrasings ("fruit", "a drawing of
        fruit", "clip art of food: fruit"), embedded by the sentence model
        that made the caption features, passed through the fitted method's
        text side alone and searched among the episode's unseen pictures;
        mAP@all, relevant being the pictures of the class named. Only Open
        Clip Art has class names and such a sentence model: on other data
        the column is NaN, as it is for a method that cannot embed one
        modality alone. ``"auto"`` scores them where the sentence encoder
        is installed (``pip install "skgcrdp[encoders]"``); True requires
        it.

    Returns
    -------
    results : pandas.DataFrame
        Columns ``K, episode, method, kind, image_to_text, text_to_image,
        mean, typed_query_map, fit_seconds, peak_memory_mib, n_train_pairs,
        n_test_pairs, error`` (``chosen``, the name of the method chosen, for "chosen by
        CV"; ``peak_gpu_memory_mib`` on CUDA). A method that raised in an
        episode has NaN scores and the exception in ``error``.
    """
    if not isinstance(data, BenchmarkData):
        data = load_benchmark_data(data, label_column)
    shots = _check_shots(shots)
    n_episodes = _check_int("n_episodes", n_episodes, 1)
    random_state = _check_int("random_state", random_state, 0)
    methods = resolve_methods(methods, full=full)
    device = resolve_device(device)
    gcrdp_params = dict(gcrdp_params or {})
    if preprocess is not None:
        preprocess = check_preprocess(preprocess, data.n_image_features)
    episodes = plan_episodes(data, shots, n_episodes, test_size, random_state)
    queries = _typed_queries(data, typed_queries)
    if not isinstance(progress, Progress):
        progress = Progress(episode_work(data, episodes, len(methods)), enabled=progress)
    n_workers = 1 if n_jobs is None else effective_n_jobs(n_jobs)

    def tasks():
        for k, episode, seen, unseen in episodes:
            context = EpisodeContext(
                n_image_features=data.n_image_features,
                n_text_features=data.n_text_features,
                n_pairs=len(seen),
                seed=random_state + episode,
                device=device,
                gcrdp_params=gcrdp_params,
            )
            yield delayed(_run_episode)(methods, context, k, episode, data.X, data.y, seen,
                                        unseen, preprocess, queries, one_thread=n_workers > 1)

    if n_workers == 1:
        done = (task(*args, **kwargs) for task, args, kwargs in tasks())
    else:
        done = Parallel(n_jobs=n_workers, return_as="generator")(tasks())
    rows, finished = [], {}
    for (k, _, seen, _), episode_rows in zip(episodes, done):
        rows += episode_rows
        finished[k] = finished.get(k, 0) + 1
        progress.advance(_work(len(seen), data.X.shape[1], len(methods)))
        if finished[k] == n_episodes:
            progress.report(f"{data.name} K={shots_label(k)}: {n_episodes} episodes")
    results = pd.DataFrame(rows)
    if device.startswith("cuda") and "peak_gpu_memory_mib" not in results:
        results["peak_gpu_memory_mib"] = np.nan
    return results


def _typed_queries(data, wanted):
    """The typed queries of ``data``'s classes, or None where they are not scored."""
    if wanted not in (True, False, "auto"):
        raise ValueError(f"typed_queries must be True, False or 'auto', got {wanted!r}.")
    if not wanted or not supports_typed_queries(data):
        return None
    if not encoders_installed():
        if wanted == "auto":
            return None
        raise ImportError(f"{ENCODERS_HINT}.")
    return load_typed_queries(data.class_names)


def plan_episodes(data, shots, n_episodes, test_size=0.5, random_state=0):
    """``(K, episode, seen rows, unseen rows)`` of every episode, heaviest K first as given."""
    episodes = []
    for k in _check_shots(shots):
        cv = ClassDisjointSplit(n_episodes, test_size=test_size, n_shots=k,
                                random_state=random_state)
        episodes += [(k, e, seen, unseen) for e, (seen, unseen) in enumerate(cv.split(data.X, data.y))]
    return episodes


# The progress estimate's model of a fit's cost: a fixed part worth this many
# training pairs, and a per-pair part that grows with the input width (both
# fitted to the embedded sets' fit times on 2 cores; an estimate, no more).
FIXED_COST_PAIRS = 100
WIDTH_SCALE = 2500


def _work(n_pairs, n_features, n_methods):
    return n_methods * (n_pairs + FIXED_COST_PAIRS) * (1 + n_features / WIDTH_SCALE)


def episode_work(data, episodes, n_methods):
    """Work of a run of ``episodes`` of ``data`` for the progress estimate, in pair-fits."""
    return sum(_work(len(seen), data.X.shape[1], n_methods) for _, _, seen, _ in episodes)


_PROCESS_READY = False


def _ready_process(device, one_thread):
    """Once per process: one torch thread if asked, torch warmed up, the start-up objects frozen."""
    global _PROCESS_READY
    if one_thread:
        torch.set_num_threads(1)
    if _PROCESS_READY:
        return
    _warm_up(device)
    # Every row collects garbage before measuring its memory; the objects of
    # the imports (about a million) need not be traversed each time.
    gc.collect()
    gc.freeze()
    _PROCESS_READY = True


def _run_episode(methods, context, k, episode, X, y, seen, unseen, preprocess, queries=None,
                 one_thread=False):
    """Fit and score every method in one episode; its rows."""
    _ready_process(context.device, one_thread)
    memo = FitMemo()
    rows = []
    for method in methods:
        row = {"K": shots_label(k), "episode": episode, "method": method.name,
               "kind": method.kind, "n_train_pairs": len(seen), "n_test_pairs": len(unseen)}
        row.update(_fit_and_score(method, context, X[seen], y[seen], X[unseen], y[unseen],
                                  preprocess, memo, queries))
        rows.append(row)
    return rows


def _warm_up(device):
    """Pay torch's one-time start-up costs before any method is timed."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 4))
    GMMFeatureExtractor(2, embedding_dim=2, hidden_dim=4, max_epochs=2, device=device,
                        random_state=0).fit(X, np.repeat([0, 1], 8))


def _fit_and_score(method, context, X_train, y_train, X_test, y_test, preprocess, memo,
                   queries=None):
    """One row's scores; its fits shared through ``memo`` with the episode's other rows."""
    row = dict.fromkeys((*DIRECTIONS, "mean", "typed_query_map", "fit_seconds", "peak_memory_mib"),
                        np.nan)
    row["error"] = None
    saved_before = memo.saved_seconds
    try:
        with warnings.catch_warnings():
            # CCA/PLS on a handful of pairs often stop before convergence;
            # the score says how much that matters.
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message="y residual is constant")
            with PeakMemory(context.device) as memory:
                start = time.perf_counter()
                pre = None
                if preprocess is not None:
                    pre = clone(preprocess).fit(X_train, y_train)
                    X_train, X_test = pre.transform(X_train), pre.transform(X_test)
                    # The methods see the preprocessed widths.
                    context = replace(
                        context,
                        n_image_features=pre.n_image_features_out_,
                        n_text_features=pre.n_text_features_out_,
                    )
                model = fit_sharing(method.build(context), X_train, y_train, memo)
                row["fit_seconds"] = time.perf_counter() - start
                Z = model.transform(X_test)
    except Exception as exc:  # one failing method must not end a long run
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc()
        return row
    # The time the row's method needs on its own: the shared fits count too.
    row["fit_seconds"] += memo.saved_seconds - saved_before
    if hasattr(model, "chosen_"):
        row["chosen"] = model.chosen_
    row["peak_memory_mib"] = memory.peak_mib
    if context.device.startswith("cuda"):
        row["peak_gpu_memory_mib"] = memory.peak_gpu_mib
    for direction in DIRECTIONS:
        row[direction] = cross_modal_retrieval_score(Z, y_test, direction=direction)
    row["mean"] = (row["image_to_text"] + row["text_to_image"]) / 2
    if queries is not None:
        # Outside the timed and measured fit: a query is embedded after training.
        row["typed_query_map"] = typed_query_map(model, queries, Z[:, : Z.shape[1] // 2], y_test,
                                                 preprocess=pre)
    return row


def summarize(results):
    """Mean over episodes per K and method, with the ratio to the best baseline.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`run_benchmark`.

    Returns
    -------
    summary : pandas.DataFrame
        Indexed by ``(K, method)``: ``image_to_text``, ``text_to_image``,
        ``mean`` (mAP, mean of both directions), ``std`` (of ``mean`` over
        episodes), ``typed_query_map`` (where the results have it: the mAP of
        typed queries, NaN where none were scored), ``fit_seconds``, ``peak_memory_mib``, ``episodes``
        (successful ones), ``vs_best_baseline`` (``mean`` divided by the
        best baseline's ``mean`` at that K; baselines and chance count) and,
        for "chosen by CV", ``chosen`` (how often each method was chosen).
    """
    columns = [*DIRECTIONS, "mean"]
    grouped = results.groupby(["K", "method"], sort=False)
    summary = grouped[columns].mean()
    summary["std"] = grouped["mean"].std(ddof=0)
    if "typed_query_map" in results:
        summary["typed_query_map"] = grouped["typed_query_map"].mean()
    summary["fit_seconds"] = grouped["fit_seconds"].mean()
    summary["peak_memory_mib"] = grouped["peak_memory_mib"].max()
    if "peak_gpu_memory_mib" in results:
        summary["peak_gpu_memory_mib"] = grouped["peak_gpu_memory_mib"].max()
    summary["episodes"] = grouped["mean"].count()
    if "chosen" in results:
        summary["chosen"] = grouped["chosen"].agg(_choice_counts)
    kinds = grouped["kind"].first()
    is_baseline = kinds.isin(["baseline", "chance"])
    best = summary["mean"].where(is_baseline).groupby(level="K", sort=False).transform("max")
    summary["vs_best_baseline"] = summary["mean"] / best
    summary.insert(0, "kind", kinds)
    return summary


def _choice_counts(chosen):
    """``"GCRDP 6, PLS 4"``: how often each method was chosen, most often first; None if never."""
    counts = chosen.dropna().value_counts()
    return ", ".join(f"{name} {n}" for name, n in counts.items()) or None


def compare_data_sets(summaries):
    """Each method's ratio to the best baseline per data set and K, and their mean.

    Parameters
    ----------
    summaries : dict of str to pandas.DataFrame
        :func:`summarize` outputs, keyed by data set name.

    Returns
    -------
    comparison : pandas.DataFrame
        One row per method (in the first summary's order); one column
        ``"<data> K=<K>"`` per data set and K holding ``vs_best_baseline``,
        and ``mean ratio``, their mean over the columns.
    """
    columns = {}
    for name, summary in summaries.items():
        for k in dict.fromkeys(summary.index.get_level_values("K")):
            columns[f"{name} K={k}"] = summary.loc[k, "vs_best_baseline"]
    comparison = pd.DataFrame(columns)
    comparison.index.name = "method"
    comparison["mean ratio"] = comparison.mean(axis=1)
    return comparison
