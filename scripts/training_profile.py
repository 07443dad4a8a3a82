"""Where the default pipeline's fit time goes, and what skorch costs over plain torch.

    python scripts/training_profile.py

Data: the seen classes of the benchmark's first Wikipedia episode (5 classes,
all their pairs). Measured in one process:

1. the default pipeline's fit, split into mixture (GMM) refits, encoder
   training and alignment;
2. the extractor's training loop under skorch against a plain torch loop
   over the same module, loss, optimiser, batches and epochs (mixtures off,
   so that only the loop differs), both with 1 and 2 torch threads.
"""

import time
import warnings

import numpy as np
import torch

from skgcrdp import GMMFeatureExtractor, make_gcrdp_pipeline
from skgcrdp.datasets import load_wikipedia

# A profile times an internal step (the mixture refits) by wrapping it.
from skgcrdp.extraction import _RefitMixtures as RefitMixtures
from skgcrdp.model_selection import ClassDisjointSplit
from skgcrdp.nn import ModalityHeads, MultiPositiveContrastiveLoss

REPEATS = 3


def seen_pairs():
    X, y = load_wikipedia(return_X_y=True)
    seen, _ = next(ClassDisjointSplit(1, random_state=0).split(X, y))
    return X[seen], y[seen]


def time_split(X, y):
    spent = {"gmm": 0.0}
    refit = RefitMixtures.refit

    def timed_refit(self, net):
        start = time.perf_counter()
        refit(self, net)
        spent["gmm"] += time.perf_counter() - start

    # torch's one-time start-up is not part of any fit.
    GMMFeatureExtractor(128, max_epochs=1, random_state=0).fit(X, y)
    RefitMixtures.refit = timed_refit
    try:
        pipeline = make_gcrdp_pipeline(128, random_state=0)
        start = time.perf_counter()
        pipeline[0].fit(X, y)
        extract = time.perf_counter() - start
        Z = pipeline[0].transform(X)
        start = time.perf_counter()
        pipeline[1].fit(Z, y)
        align = time.perf_counter() - start
    finally:
        RefitMixtures.refit = refit
    total = extract + align
    print(f"## Default pipeline fit on {len(y)} pairs of 5 seen classes: {total:.2f} s\n")
    print("| part | seconds | share |")
    print("| --- | --- | --- |")
    for name, seconds in (("GMM refits (every 5 epochs + final)", spent["gmm"]),
                          ("encoder training (extractor minus GMM)", extract - spent["gmm"]),
                          ("relative-distance aligner", align)):
        print(f"| {name} | {seconds:.2f} | {seconds / total:.0%} |")


def plain_torch_fit(X_image, X_text, y, extractor, device="cpu"):
    """The extractor's loop without skorch: same module, loss, AdamW, shuffling, epochs, device."""
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


def skorch_overhead(X, y):
    extractor = GMMFeatureExtractor(128, prototype_weight=0.0, random_state=0)
    extractor.fit(X, y)  # warm-up
    scaled_image = extractor.scalers_["image"].transform(X[:, :128]).astype(np.float32)
    scaled_text = extractor.scalers_["text"].transform(X[:, 128:]).astype(np.float32)
    labels = np.unique(y, return_inverse=True)[1].astype(np.int64)
    print(f"\n## Training loop: skorch against plain torch ({extractor.max_epochs} epochs, batch "
          f"{extractor.batch_size}, mixtures off; best of {REPEATS})\n")
    print("| torch threads | skorch fit (s) | plain torch loop (s) | skorch overhead |")
    print("| --- | --- | --- | --- |")
    threads = torch.get_num_threads()
    for n_threads in sorted({1, threads}):
        torch.set_num_threads(n_threads)
        skorch_seconds = min(_seconds(lambda: extractor.fit(X, y)) for _ in range(REPEATS))
        plain_seconds = min(
            _seconds(lambda: plain_torch_fit(scaled_image, scaled_text, labels, extractor))
            for _ in range(REPEATS)
        )
        print(f"| {n_threads} | {skorch_seconds:.2f} | {plain_seconds:.2f} | "
              f"{skorch_seconds / plain_seconds - 1:+.0%} |", flush=True)
    torch.set_num_threads(threads)


def _seconds(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    X, y = seen_pairs()
    time_split(X, y)
    skorch_overhead(X, y)
