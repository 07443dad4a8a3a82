"""Two dask workers against one process: a grid search, embedding at scale, a sharded search.

    python scripts/dask_scaling.py                  # 8 fits, 1M rows, 4M x 128 gallery
    python scripts/dask_scaling.py --rows 200000 --gallery 1000000

Each scenario runs once in a fresh process (the in-process baseline) and once
on a fresh ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``,
and prints the time ratio and the peak resident memory of the baseline
process against that of each worker (``ru_maxrss``).

Scenarios:
(a) a grid search of 8 fits (4 candidates x 2 class-disjoint folds, each
    training on 8 of Wikipedia's 10 classes) of the default pipeline;
(b) embedding ``--rows`` text rows with a fitted pipeline (chunks of 100,000),
    the embeddings left on the workers as a pipeline writing them out would;
(c) exact top-10 for 1,000 queries on a ``--gallery`` x 128 gallery, in
    memory against sharded over the two workers (chunks of 500,000 rows);
    then the same with ``algorithm="faiss"`` (one index in memory against an
    index per shard), with each one's recall@10 against the exact answer.

The grid search is also run on one worker with two threads: joblib then
sends it two fits at a time, which take turns in that process (torch's
global generator is locked, for repeatable fits), against two workers of
one thread each, which train at the same time.
"""

import argparse
import multiprocessing
import resource
import time
import warnings

import numpy as np

K = 10
DIM = 128
SHARD = 500_000


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fitted_pipeline():
    from skgcrdp import make_gcrdp_pipeline
    from skgcrdp.datasets import load_wikipedia

    X, y = load_wikipedia(return_X_y=True)
    return make_gcrdp_pipeline(128, random_state=0, device="cpu").fit(X, y)


def grid_search(n_jobs):
    from sklearn.model_selection import GridSearchCV

    from skgcrdp import make_gcrdp_pipeline
    from skgcrdp.datasets import load_wikipedia
    from skgcrdp.model_selection import ClassDisjointSplit

    X, y = load_wikipedia(return_X_y=True)
    grid = {"extract__temperature": [0.2, 0.5], "extract__instance_weight": [0.5, 0.7]}
    # Each fit trains on 8 of the 10 classes (about 2,300 pairs); no refit, so
    # that only the 8 fits are timed.
    search = GridSearchCV(make_gcrdp_pipeline(128, random_state=0, device="cpu"), grid, refit=False,
                          cv=ClassDisjointSplit(2, test_size=2, random_state=0), n_jobs=n_jobs)
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, search.cv_results_["mean_test_score"]


def text_rows(n_rows):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n_rows, 10)).astype(np.float32)


def queries():
    """1,000 fresh rows of the gallery's distribution (rows past its end)."""
    return gallery_shard(10**9, 10**9 + 1000)


# -- the in-process baselines, each in a fresh process -------------------------


def _alone_search(_):
    seconds, scores = grid_search(n_jobs=1)
    return seconds, peak_rss_mib(), scores


def _alone_embed(n_rows):
    from skgcrdp import embed_modality

    pipe, X = fitted_pipeline(), text_rows(n_rows)
    start = time.perf_counter()
    embed_modality(pipe, X, "text")
    return time.perf_counter() - start, peak_rss_mib(), None


def _alone_gallery(n_gallery, algorithm="brute"):
    from skgcrdp import CrossModalRetriever

    gallery = gallery_rows(n_gallery)
    retriever = CrossModalRetriever(n_neighbors=K, algorithm=algorithm)
    retriever.fit_gallery(gallery, modality="text")
    del gallery
    start = time.perf_counter()
    indices = retriever.kneighbors(queries(), query_modality="image", return_distance=False)
    return time.perf_counter() - start, peak_rss_mib(), indices


def _alone_faiss(n_gallery):
    return _alone_gallery(n_gallery, "faiss")


def gallery_rows(n_gallery):
    return np.concatenate([gallery_shard(start, min(start + SHARD, n_gallery))
                           for start in range(0, n_gallery, SHARD)])


def gallery_shard(start, stop):
    """Rows around 1,000 centres, as embeddings cluster (Gaussian noise has no true neighbours)."""
    centres = np.random.default_rng(2).standard_normal((1000, DIM), dtype=np.float32)
    rng = np.random.default_rng([3, start])
    noise = rng.standard_normal((stop - start, DIM), dtype=np.float32)
    return centres[rng.integers(0, 1000, stop - start)] + noise


def recall(found, truth):
    return np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)])


def alone(function, argument):
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, (argument,))


# -- the same on two workers ----------------------------------------------------


def on_cluster(scenario, argument, n_workers=2, threads_per_worker=1):
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster, wait
    from joblib import parallel_backend

    from skgcrdp import CrossModalRetriever, embed_modality

    with LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        # Pay the workers' imports before the clock starts, as a long-lived cluster would.
        client.run(_import_everything)
        result = None
        if scenario == "search":
            with parallel_backend("dask"):
                seconds, result = grid_search(n_jobs=-1)
        elif scenario == "embed":
            pipe = fitted_pipeline()
            X = da.from_array(text_rows(argument), chunks=(100_000, -1)).persist()
            start = time.perf_counter()
            # Embeddings stay on the workers (to be written out there), not gathered.
            wait(embed_modality(pipe, X, "text").persist())
            seconds = time.perf_counter() - start
        else:
            algorithm = "faiss" if scenario == "faiss" else "brute"
            # Generated on the workers, shard by shard: the in-process rows, never in the client.
            rows = da.concatenate([
                da.from_delayed(dask.delayed(gallery_shard)(start, min(start + SHARD, argument)),
                                (min(start + SHARD, argument) - start, DIM), dtype=np.float32)
                for start in range(0, argument, SHARD)])
            retriever = CrossModalRetriever(n_neighbors=K, algorithm=algorithm)
            retriever.fit_gallery(rows, modality="text")   # returns once the shards are ready
            start = time.perf_counter()
            result = retriever.kneighbors(queries(), query_modality="image", return_distance=False)
            seconds = time.perf_counter() - start
        workers = sorted(client.run(peak_rss_mib).values())
    return seconds, workers, result


def _import_everything():
    import skgcrdp.benchmark  # noqa: F401  (torch, skorch, scikit-learn and the data sets)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="text rows embedded in scenario (b) (default: 1000000)")
    parser.add_argument("--gallery", type=int, default=4_000_000,
                        help="gallery rows of scenario (c) (default: 4000000)")
    parser.add_argument("--scenarios", default="search,embed,gallery,faiss",
                        help="comma-separated, from the default (default: search,embed,gallery,faiss)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    print("| scenario | one process (s) | 2 workers (s) | ratio | peak memory, one process (MiB) "
          "| peak memory per worker (MiB) |")
    print("| --- | --- | --- | --- | --- | --- |")
    cases = [
        ("(a) grid search, 8 fits", "search", None, _alone_search),
        (f"(b) embed {args.rows:,} text rows", "embed", args.rows, _alone_embed),
        (f"(c) exact top-{K}, 1,000 queries, {args.gallery:,} x {DIM} gallery", "gallery",
         args.gallery, _alone_gallery),
        ("(c) the same with faiss (in memory: one index; on the cluster: one per shard)",
         "faiss", args.gallery, _alone_faiss),
    ]
    exact = None
    chosen = args.scenarios.split(",")
    if "faiss" in chosen and "gallery" not in chosen:
        parser.error("the faiss scenario needs the gallery one (its exact answer)")
    for label, scenario, argument, baseline in cases:
        if scenario not in chosen:
            continue
        one_seconds, one_peak, one_result = alone(baseline, argument)
        two_seconds, worker_peaks, two_result = on_cluster(scenario, argument)
        print(f"| {label} | {one_seconds:.1f} | {two_seconds:.1f} | "
              f"{one_seconds / two_seconds:.2f}x | {one_peak:.0f} | "
              f"{' / '.join(f'{p:.0f}' for p in worker_peaks)} |", flush=True)
        if scenario == "search":
            print(f"|   same cv_results_ on the cluster: {np.array_equal(one_result, two_result)} "
                  "| | | | | |")
            # One worker of one thread is no baseline through joblib: its dask
            # backend then sees one slot and runs the fits in this process.
            one_worker, _, _ = on_cluster("search", None, n_workers=1, threads_per_worker=2)
            print(f"|   (a) one worker of two threads / two workers of one | {one_worker:.1f} | "
                  f"{two_seconds:.1f} | {one_worker / two_seconds:.2f}x | | |", flush=True)
        elif scenario == "gallery":
            same = np.array_equal(one_result, two_result)
            print(f"|   same neighbours on the cluster: {same} | | | | | |", flush=True)
            exact = one_result
        elif scenario == "faiss":
            print(f"|   recall@{K} against the exact search | {recall(one_result, exact):.3f} | "
                  f"{recall(two_result, exact):.3f} | | | |", flush=True)


if __name__ == "__main__":
    main()
