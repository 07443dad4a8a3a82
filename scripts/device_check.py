"""GPU training check: the default pipeline on ``device="cuda"`` against the CPU.

    python scripts/device_check.py [--episodes 2]

Run on a machine with a CUDA GPU. For each embedded data set and each of
the first ``--episodes`` class-disjoint episodes (all pairs of the seen
classes), the default GCRDP pipeline is fitted once on the CPU and once on
the GPU with the same seed, and the script prints, per fit: the wall time,
the unseen-class mAP (mean of both directions), where the trained modules'
parameters live, the peak GPU memory, and whether embedding one modality
alone on the GPU equals the matching half of the paired embedding. A model
trained on the GPU is then pickled, unpickled as if CUDA were missing
(skorch maps it to the CPU) and scored again. It exits with status 1 if any check fails.

The two devices do not give the same numbers bit for bit (different
kernels, non-deterministic reductions); the check is that the GPU's mAP is
within the spread that seeds give on the CPU, not equality.
"""

import argparse
import pickle
import sys
import time
import warnings

import numpy as np
import torch

from skgcrdp import embed_modality, make_gcrdp_pipeline
from skgcrdp.datasets import load_openclipart, load_wikipedia, make_multimodal_classification
from skgcrdp.metrics import cross_modal_retrieval_score
from skgcrdp.modalities import shared_space
from skgcrdp.model_selection import ClassDisjointSplit

LOADERS = {"wikipedia": load_wikipedia, "openclipart": load_openclipart}


def trained_modules(pipe):
    return [pipe.named_steps[name].net_.module_ for name in ("extract", "align")]


def fit_and_score(X, y, n_image_features, train, test, device, seed):
    pipe = make_gcrdp_pipeline(n_image_features, random_state=seed, device=device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    pipe.fit(X[train], y[train])
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    score = cross_modal_retrieval_score(shared_space(pipe, X[test]), y[test])
    devices = {str(p.device.type) for m in trained_modules(pipe) for p in m.parameters()}
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else 0.0
    return pipe, seconds, score, devices, peak


def score_where_cuda_is_missing(data, X, y):
    """Unpickle a GPU-trained pipeline as a CPU-only machine would, and score it."""
    available = torch.cuda.is_available
    torch.cuda.is_available = lambda: False
    try:
        pipe = pickle.loads(data)
    finally:
        torch.cuda.is_available = available
    return cross_modal_retrieval_score(shared_space(pipe, X), y)


def time_at_scale(n_pairs, devices):
    """Fit time of the default pipeline (5 epochs per stage) on many synthetic pairs."""
    n_classes = 100
    X, y = make_multimodal_classification(
        n_classes, n_pairs // n_classes, n_image_features=512, n_text_features=384, random_state=0)
    X = X.astype(np.float32)
    print(f"\n{len(y)} synthetic pairs, {n_classes} classes, 512 + 384 features, 5 epochs per stage:")
    for device in devices:
        pipe = make_gcrdp_pipeline(512, random_state=0, device=device,
                                   extract__max_epochs=5, align__max_epochs=5)
        start = time.perf_counter()
        pipe.fit(X, y)
        print(f"  {device}: fit {time.perf_counter() - start:.1f} s", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2,
                        help="class-disjoint episodes per embedded data set (default: 2)")
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"],
                        help="devices to fit on and compare (default: cpu cuda)")
    parser.add_argument("--large", type=int, default=100_000,
                        help="pairs of the synthetic set timed at scale, 0 to skip (default: 100000)")
    args = parser.parse_args(argv)
    if "cuda" in args.devices and not torch.cuda.is_available():
        print("no CUDA device visible; nothing to check", file=sys.stderr)
        return 2
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    print(f"torch {torch.__version__}, {gpu}, {torch.get_num_threads()} CPU threads")
    warnings.filterwarnings("ignore")
    failures = []
    print("| data | episode | device | fit s | unseen mAP | params on | peak GPU MiB "
          "| one modality = paired half |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, load in LOADERS.items():
        bunch = load()
        X, y = bunch.data.astype(np.float32), bunch.target
        n_image = bunch.n_image_features
        cv = ClassDisjointSplit(args.episodes, random_state=0)
        for episode, (train, test) in enumerate(cv.split(X, y)):
            for device in args.devices:
                pipe, seconds, score, devices, peak = fit_and_score(
                    X, y, n_image, train, test, device, seed=episode)
                paired = shared_space(pipe, X[test])
                half = embed_modality(pipe, X[test, n_image:], "text")
                same = np.allclose(half, paired[:, paired.shape[1] // 2:], atol=1e-5)
                print(f"| {name} | {episode} | {device} | {seconds:.1f} | {score:.4f} | "
                      f"{','.join(sorted(devices))} | {peak:.0f} | {same} |", flush=True)
                if devices != {device} or not same:
                    failures.append(f"{name} episode {episode} on {device}")
                if device == "cuda":
                    moved = score_where_cuda_is_missing(pickle.dumps(pipe), X[test], y[test])
                    print(f"| {name} | {episode} | cuda model unpickled without CUDA | | "
                          f"{moved:.4f} | | | |", flush=True)
                    if abs(moved - score) > 1e-4:
                        failures.append(f"{name} episode {episode}: CPU copy scores {moved}, not {score}")
    if args.large:
        time_at_scale(args.large, args.devices)
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
