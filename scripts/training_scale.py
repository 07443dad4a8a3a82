"""Training time against the number of pairs and of classes, and against a plain torch loop.

    python scripts/training_scale.py                          # 20k and 100k pairs x 20, 200, 1000 classes
    python scripts/training_scale.py --pairs 20000 --classes 20 1000 --device cuda

Data: synthetic paired features (``make_multimodal_classification``: 512
image + 384 text features, 3 modes per class). For each number of pairs and
of classes, measured in one process (the best of ``--repeats`` rounds, each of which runs
every configuration once):

* the extractor (``GMMFeatureExtractor`` defaults but ``max_epochs``) with its
  class mixtures, and with ``prototype_weight=0`` (no mixtures): their ratio
  is what the mixtures cost;
* the aligner (``RelativeDistanceAligner`` defaults) on the extractor's output;
* the default pipeline (``make_gcrdp_pipeline`` with the same extractor epochs);
* the extractor's training loop (the epochs as skorch's history times them,
  without the validation and standardisation of the input before them) in
  pair-epochs per second, against a plain torch loop over the same module,
  loss, optimiser and batches on the same device (:func:`plain_torch_fit`,
  on the input standardised beforehand), mixtures off in both.

Targets (2 CPU cores): mixtures at most 1.3x at 1,000 classes and 1.2x at 20;
the loop at least 0.85x the plain torch loop at 100,000 pairs.

    python scripts/training_scale.py --profile            # where a fit's time goes, on Wikipedia

``--profile`` instead times the default pipeline on the seen classes of the
benchmark's first Wikipedia episode (5 classes, all their pairs): what the
mixtures cost (the extractor with them against without), the rest of the
extractor and the aligner; then the extractor's fit (mixtures off) against
the plain torch loop, with 1 torch thread and with every core.

    python scripts/training_scale.py --memory 1000000     # peak memory of a fit on 1M pairs

``--memory N`` instead fits the extractor (one epoch, 200 classes) on N pairs of
512 + 384 float32 features and prints the peak resident memory the fit added,
against the size of its input.
"""

import argparse
import resource
import time
import warnings

import numpy as np
import torch

from skgcrdp import GMMFeatureExtractor, RelativeDistanceAligner, make_gcrdp_pipeline
from skgcrdp.datasets import load_wikipedia, make_multimodal_classification
from skgcrdp.model_selection import ClassDisjointSplit
from skgcrdp.nn import ModalityHeads, MultiPositiveContrastiveLoss

N_IMAGE, N_TEXT = 512, 384


def seconds(function):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def training_loop_seconds(extractor, X, y):
    """Fit ``extractor`` on ``(X, y)``; return the seconds its epochs took (skorch's history)."""
    extractor.fit(X, y)
    return sum(extractor.net_.history[:, "dur"])


def scaled_pairs(extractor, X):
    """Return the image and text parts of ``X`` as ``extractor`` standardised them, float32."""
    n_image = extractor.n_image_features_
    return [extractor.scalers_[m].transform(part).astype(np.float32)
            for m, part in (("image", X[:, :n_image]), ("text", X[:, n_image:]))]


def plain_torch_fit(X_image, X_text, y, extractor, device="cpu"):
    """Train the extractor's network in a plain torch loop: same module, loss, AdamW, epochs."""
    torch.manual_seed(0)
    module = ModalityHeads(X_image.shape[1], X_text.shape[1], embedding_dim=extractor.embedding_dim,
                           hidden_dim=extractor.hidden_dim, n_hidden_layers=extractor.n_hidden_layers,
                           dropout=extractor.dropout).to(device)
    criterion = MultiPositiveContrastiveLoss(temperature=extractor.temperature, prototype_weight=0.0,
                                             instance_weight=extractor.instance_weight)
    optimizer = torch.optim.AdamW(module.parameters(), lr=extractor.lr,
                                  weight_decay=extractor.weight_decay)
    image, text, labels = (torch.as_tensor(a, device=device) for a in (X_image, X_text, y))
    generator = torch.Generator().manual_seed(0)
    module.train()
    for _ in range(extractor.max_epochs):
        order = torch.randperm(len(labels), generator=generator).to(device)
        for start in range(0, len(labels), extractor.batch_size):
            batch = order[start : start + extractor.batch_size]
            optimizer.zero_grad()
            loss = criterion(module(image[batch], text[batch]), labels[batch])
            loss.backward()
            optimizer.step()
    return module


def measure(n_pairs, n_classes, epochs, device, repeats):
    X, y = make_multimodal_classification(
        n_classes=n_classes, n_pairs_per_class=n_pairs // n_classes, n_modes_per_class=3,
        n_image_features=N_IMAGE, n_text_features=N_TEXT, random_state=0)
    X = X.astype(np.float32)

    def extractor(**params):
        return GMMFeatureExtractor(N_IMAGE, max_epochs=epochs, device=device, random_state=0,
                                   **params)

    plain_extractor = extractor(prototype_weight=0.0).fit(X, y)
    Z = plain_extractor.transform(X)
    scaled = scaled_pairs(plain_extractor, X)
    labels = np.unique(y, return_inverse=True)[1].astype(np.int64)
    loops = []
    runs = {
        "with_mixtures": lambda: extractor().fit(X, y),
        # Timed whole, and its training loop alone as well.
        "without": lambda: loops.append(training_loop_seconds(extractor(prototype_weight=0.0), X, y)),
        "plain": lambda: plain_torch_fit(*scaled, labels, plain_extractor, device),
        "aligner": lambda: RelativeDistanceAligner(device=device, random_state=0).fit(Z, y),
        "pipeline": lambda: make_gcrdp_pipeline(N_IMAGE, device=device, random_state=0,
                                                extract__max_epochs=epochs).fit(X, y),
    }
    # Rounds of one run each, the best of each kept: a spell in which the
    # machine runs slow then slows every configuration, not one alone, and
    # the ratios stay fair.
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            best[name] = min(best[name], seconds(run))
    best["loop"] = min(loops)
    pair_epochs = len(y) * epochs
    return dict(pairs=len(y), classes=n_classes, **best, ratio=best["with_mixtures"] / best["without"],
                ours=pair_epochs / best["loop"], plain_rate=pair_epochs / best["plain"],
                loop_ratio=best["plain"] / best["loop"], fit_ratio=best["plain"] / best["without"])


def peak_rss_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def memory(n_pairs, n_classes=200):
    """Peak resident memory a one-epoch fit adds, against its float32 input's size."""
    rng = np.random.default_rng(0)
    y = rng.integers(n_classes, size=n_pairs)
    centers = rng.standard_normal((n_classes, N_IMAGE + N_TEXT)).astype(np.float32)
    X = np.empty((n_pairs, N_IMAGE + N_TEXT), dtype=np.float32)
    for start in range(0, n_pairs, 65536):  # in blocks: no temporary of the input's size
        rows = slice(start, start + 65536)
        X[rows] = centers[y[rows]] + rng.standard_normal(X[rows].shape, dtype=np.float32)
    before = peak_rss_gib()
    start = time.perf_counter()
    GMMFeatureExtractor(N_IMAGE, max_epochs=1, device="cpu", random_state=0).fit(X, y)
    seconds = time.perf_counter() - start
    added = peak_rss_gib() - before
    size = X.nbytes / 2**30
    print(f"{n_pairs:,} pairs x {X.shape[1]} float32 features ({size:.2f} GiB), {n_classes} "
          f"classes, one epoch in {seconds:.0f} s: the fit added {added:.2f} GiB at its peak, "
          f"{added / size:.2f}x its input (peak resident memory {peak_rss_gib():.2f} GiB)")


def profile(repeats=3):
    """Print where the default pipeline's fit time goes, and the loop against plain torch."""
    X, y = load_wikipedia(return_X_y=True)
    seen, _ = next(ClassDisjointSplit(1, random_state=0).split(X, y))
    X, y = X[seen], y[seen]
    n_image = 128
    pipeline = make_gcrdp_pipeline(n_image, random_state=0)
    Z = pipeline[0].fit(X, y).transform(X)
    without = GMMFeatureExtractor(n_image, prototype_weight=0.0, random_state=0)
    best = dict.fromkeys(("with", "without", "align"), float("inf"))
    for _ in range(repeats):
        best["with"] = min(best["with"], seconds(lambda: pipeline[0].fit(X, y)))
        best["without"] = min(best["without"], seconds(lambda: without.fit(X, y)))
        best["align"] = min(best["align"], seconds(lambda: pipeline[1].fit(Z, y)))
    total = best["with"] + best["align"]
    print(f"## Default pipeline fit on {len(y)} pairs of 5 seen classes: {total:.2f} s\n")
    print("| part | seconds | share |")
    print("| --- | --- | --- |")
    for name, part in (("class mixtures (extractor with them, less without)",
                        best["with"] - best["without"]),
                       ("encoder training (extractor without mixtures)", best["without"]),
                       ("relative-distance aligner", best["align"])):
        print(f"| {name} | {part:.2f} | {part / total:.0%} |")

    labels = np.unique(y, return_inverse=True)[1].astype(np.int64)
    scaled = scaled_pairs(without, X)
    print(f"\n## Training loop: skorch against plain torch ({without.max_epochs} epochs, batch "
          f"{without.batch_size}, mixtures off; best of {repeats})\n")
    print("| torch threads | extractor fit (s) | its epochs (s) | plain torch loop (s) "
          "| speed of its epochs / plain |")
    print("| --- | --- | --- | --- | --- |")
    threads = torch.get_num_threads()
    for n_threads in sorted({1, threads}):
        torch.set_num_threads(n_threads)
        # The fit and its epochs from the same run: the fastest of the repeats.
        fit, loop = min((seconds(lambda: without.fit(X, y)), sum(without.net_.history[:, "dur"]))
                        for _ in range(repeats))
        plain = min(seconds(lambda: plain_torch_fit(*scaled, labels, without))
                    for _ in range(repeats))
        print(f"| {n_threads} | {fit:.2f} | {loop:.2f} | {plain:.2f} | {plain / loop:.2f}x |",
              flush=True)
    torch.set_num_threads(threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[20000, 100000], metavar="N",
                        help="numbers of training pairs (default: 20000 100000)")
    parser.add_argument("--classes", type=int, nargs="+", default=[20, 200, 1000], metavar="N",
                        help="numbers of classes (default: 20 200 1000)")
    parser.add_argument("--epochs", type=int, default=2, help="extractor epochs (default: 2)")
    parser.add_argument("--device", default="cpu", help="training device (default: cpu)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds, the best of each configuration kept (default: 1; 3 with "
                             "--profile)")
    parser.add_argument("--memory", type=int, default=0, metavar="N",
                        help="measure the peak memory of a fit on N pairs instead (default: 0, no)")
    parser.add_argument("--profile", action="store_true",
                        help="time the parts of a default fit on Wikipedia instead")
    args = parser.parse_args()
    for name in ("pairs", "classes"):
        if min(getattr(args, name)) < 1:
            parser.error(f"--{name} takes positive numbers")
    if args.epochs < 1 or args.repeats < 1 or args.memory < 0:
        parser.error("--epochs and --repeats take positive numbers, --memory zero or more")
    warnings.filterwarnings("ignore")
    if args.memory:
        memory(args.memory)
        return
    # torch's one-time start-up is not part of any fit.
    GMMFeatureExtractor(4, max_epochs=1, device=args.device).fit(
        np.random.default_rng(0).normal(size=(16, 8)), np.repeat([0, 1], 8))
    if args.profile:
        profile(max(args.repeats, 3))
        return
    print(f"device {args.device}, {torch.get_num_threads()} torch threads, extractor "
          f"{args.epochs} epochs\n")
    print("| pairs | classes | extractor with mixtures (s) | without (s) | ratio | aligner (s) "
          "| default pipeline (s) | loop pair-epochs/s (ours) | plain torch loop | ours / plain "
          "| whole fit / plain |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n_pairs in args.pairs:
        for n_classes in args.classes:
            r = measure(n_pairs, n_classes, args.epochs, args.device, args.repeats)
            print(f"| {r['pairs']:,} | {r['classes']:,} | {r['with_mixtures']:.1f} | "
                  f"{r['without']:.1f} | {r['ratio']:.2f}x | {r['aligner']:.1f} | "
                  f"{r['pipeline']:.1f} | {r['ours']:,.0f} | {r['plain_rate']:,.0f} | "
                  f"{r['loop_ratio']:.2f}x | {r['fit_ratio']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
