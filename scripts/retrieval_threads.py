"""Queries per second of one fitted retriever searched from 1 and 2 threads, in one process.

    python scripts/retrieval_threads.py                   # 200,000 x 64 gallery
    python scripts/retrieval_threads.py --gallery 50000 --seconds 2

A web service loads a model once and answers from several threads; searches
change nothing in the retriever, so threads may share it. This measures what
that buys on this machine: the exact and the faiss search, each with the
libraries' own thread pools as they are (BLAS and OpenMP already use every
core inside one search) and limited to one thread per search (then the
Python threads are the only parallelism). Every threaded answer is checked
against the sequential one. Ratios are against one thread, measured here.
"""

import argparse
import os
import threading
import time

import numpy as np
from threadpoolctl import threadpool_limits

from skgcrdp import CrossModalRetriever
from skgcrdp.utils import normalize_rows

BATCH = 64
K = 10


def clustered(rng, n, d, centres):
    labels = rng.integers(0, centres.shape[0], n)
    return normalize_rows(centres[labels] + 0.5 * rng.standard_normal((n, d)).astype(np.float32))


def queries_per_second(retriever, batches, expected, n_threads, seconds):
    """Run every thread over the batches, round after round, for ``seconds``; check each answer."""
    done = [0] * n_threads
    wrong = []
    stop = time.perf_counter() + seconds

    def work(t):
        i = t
        while time.perf_counter() < stop:
            b = i % len(batches)
            found = retriever.kneighbors(batches[b], n_neighbors=K, return_distance=False)
            if not np.array_equal(found, expected[b]):
                wrong.append(b)
            done[t] += batches[b].shape[0]
            i += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if wrong:
        raise AssertionError(f"{len(wrong)} threaded answers differ from the sequential ones")
    return sum(done) / (time.perf_counter() - start)


def main(n_gallery, d, seconds):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1000, d)).astype(np.float32)
    gallery = clustered(rng, n_gallery, d, centres)
    batches = [clustered(rng, BATCH, d, centres) for _ in range(32)]
    print(f"## Queries/s of one retriever from 1 and 2 threads: {n_gallery:,} x {d} gallery, "
          f"batches of {BATCH} queries, top {K} ({os.cpu_count()} cores)\n")
    print("| search | libraries' threads | 1 thread | 2 threads | 2 / 1 |")
    print("| --- | --- | --- | --- | --- |")
    searches = [("exact", {})]
    try:
        import faiss  # noqa: F401
    except ImportError:
        print("(faiss not installed: its rows are left out)")
    else:
        searches.append(("faiss (nprobe 16)", {"algorithm": "faiss"}))
    for name, params in searches:
        retriever = CrossModalRetriever(query_modality="image", **params)
        retriever.fit_gallery(gallery, modality="text")
        expected = [retriever.kneighbors(b, n_neighbors=K, return_distance=False) for b in batches]
        for pools, limit in (("as they are", None), ("1 per search", 1)):
            with threadpool_limits(limits=limit):
                one = queries_per_second(retriever, batches, expected, 1, seconds)
                two = queries_per_second(retriever, batches, expected, 2, seconds)
            print(f"| {name} | {pools} | {one:,.0f} | {two:,.0f} | {two / one:.2f}x |", flush=True)
    print("\nEvery threaded answer equalled the sequential one.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gallery", type=int, default=200_000, help="gallery rows (default: 200000)")
    parser.add_argument("--dim", type=int, default=64, help="embedding width (default: 64)")
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="seconds per measurement (default: 4.0)")
    args = parser.parse_args()
    if args.gallery < 1000 or args.dim < 1 or args.seconds <= 0:
        parser.error("--gallery takes at least 1000 rows, --dim and --seconds positive numbers")
    main(args.gallery, args.dim, args.seconds)
