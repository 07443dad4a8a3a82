"""Top-k search throughput, memory, approximate search and a saved gallery, in one process.

    python scripts/retrieval_speed.py                 # 1,000,000 x 128 gallery, 1000 queries
    python scripts/retrieval_speed.py --gallery 200000

The exact search is compared with this machine's float32 matrix-multiply
rate, measured here twice: a square GEMM (the machine's best case) and the
very products the search has to compute (queries x gallery tiles). Also:
scikit-learn's brute ``NearestNeighbors`` on the same data, faiss (optional)
with its recall@10 against the exact answer, and a gallery saved with joblib
and queried after loading, without refitting.
"""

import argparse
import os
import tempfile
import time
import tracemalloc

import joblib
import numpy as np
from sklearn.neighbors import NearestNeighbors

from skgcrdp import CrossModalRetriever
from skgcrdp.utils import normalize_rows

# The exact search's gallery tile (skgcrdp/_search/_exact.py): the matrix-product
# baseline below multiplies the same tiles.
GALLERY_TILE = 8192

K = 10


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def clustered(rng, n, d, centres):
    # Embeddings of real data cluster; faiss's recall depends on that.
    labels = rng.integers(0, centres.shape[0], n)
    return normalize_rows(centres[labels] + 0.5 * rng.standard_normal((n, d)).astype(np.float32))


def main(n_gallery, n_queries, d):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1000, d)).astype(np.float32)
    gallery = clustered(rng, n_gallery, d, centres)
    queries = clustered(rng, n_queries, d, centres)
    flops = 2.0 * n_queries * n_gallery * d

    square = rng.standard_normal((4096, 4096)).astype(np.float32)
    square @ square  # warm-up
    _, gemm_seconds = timed(lambda: square @ square)
    gemm_rate = 2.0 * 4096**3 / gemm_seconds

    buffer = np.empty((n_queries, GALLERY_TILE), dtype=np.float32)

    def products():
        for start in range(0, n_gallery, GALLERY_TILE):
            part = gallery[start : start + GALLERY_TILE]
            np.matmul(queries, part.T, out=buffer[:, : part.shape[0]])

    products()
    _, product_seconds = timed(products)
    product_rate = flops / product_seconds

    retriever = CrossModalRetriever(n_neighbors=K).fit_gallery(gallery, modality="text")
    retriever.kneighbors(queries[:10], query_modality="image")
    tracemalloc.start()
    (distances, exact), search_seconds = timed(retriever.kneighbors, queries, query_modality="image")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    search_rate = flops / search_seconds

    print(f"## Exact top-{K}: {n_queries} queries x {n_gallery:,} x {d} gallery (float32, cosine)\n")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| square GEMM 4096^3 (machine's best) | {gemm_rate / 1e9:.0f} GFLOP/s |")
    print(f"| the search's own products, no top-k | {product_rate / 1e9:.0f} GFLOP/s "
          f"({product_seconds:.2f} s) |")
    print(f"| CrossModalRetriever.kneighbors | {search_rate / 1e9:.0f} GFLOP/s ({search_seconds:.2f} s, "
          f"{n_queries / search_seconds:.0f} queries/s) |")
    print(f"| search rate / square GEMM rate | **{search_rate / gemm_rate:.0%}** |")
    print(f"| search rate / its own products' rate | **{search_rate / product_rate:.0%}** |")
    print(f"| peak traced memory of the search | {peak / 2**20:.0f} MiB "
          f"(queries x gallery in float32: {n_queries * n_gallery * 4 / 2**20:,.0f} MiB) |", flush=True)

    nn = NearestNeighbors(n_neighbors=K, algorithm="brute", metric="cosine").fit(gallery)
    (_, sk_indices), sk_seconds = timed(nn.kneighbors, queries)
    agree = np.mean([len(set(a) & set(b)) / K for a, b in zip(sk_indices, exact)])
    print(f"| sklearn NearestNeighbors(brute, cosine) | {sk_seconds:.2f} s: ours is "
          f"{sk_seconds / search_seconds:.1f}x faster; same neighbours: {agree:.4f} |", flush=True)

    try:
        import faiss  # noqa: F401
    except ImportError:
        print("\n(faiss not installed: pip install faiss-cpu, or skgcrdp[faiss])")
    else:
        print("\n## Approximate search: algorithm='faiss' (IndexIVFFlat)\n")
        print("| nprobe | build (s) | search (s) | speed-up vs exact | recall@10 |")
        print("| --- | --- | --- | --- | --- |")
        approx, build_seconds = timed(
            CrossModalRetriever(n_neighbors=K, algorithm="faiss").fit_gallery, gallery, modality="text"
        )
        for nprobe in (1, 4, 16, 64):
            # One index, several probe depths (index_params={"nprobe": ...} at fit does the same).
            approx.indexes_["text"].index.nprobe = nprobe
            (_, found), seconds = timed(approx.kneighbors, queries, query_modality="image")
            recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(found, exact)])
            print(f"| {nprobe} | {build_seconds:.1f} | {seconds:.3f} | {search_seconds / seconds:.1f}x | "
                  f"{recall:.4f} |", flush=True)

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "gallery.joblib")
        _, dump_seconds = timed(joblib.dump, retriever, path)
        loaded, load_seconds = timed(joblib.load, path)
        (_, again), _ = timed(loaded.kneighbors, queries, query_modality="image")
        print(f"\n## Saved gallery\n\njoblib.dump {dump_seconds:.1f} s, joblib.load {load_seconds:.1f} s "
              f"({os.path.getsize(path) / 2**20:,.0f} MiB); queried after loading without refitting: "
              f"{'identical neighbours' if np.array_equal(again, exact) else 'DIFFERENT neighbours'}.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gallery", type=int, default=1_000_000,
                        help="gallery rows (default: 1000000)")
    parser.add_argument("--queries", type=int, default=1000, help="query rows (default: 1000)")
    parser.add_argument("--dim", type=int, default=128, help="embedding width (default: 128)")
    args = parser.parse_args()
    main(args.gallery, args.queries, args.dim)
