"""How much each modality's raw features say about the unseen classes of the benchmark.

    python scripts/data_sanity.py [wikipedia openclipart]

For the benchmark's own class-disjoint episodes (same seed, same unseen classes),
mAP@all of image->image and text->text retrieval among the unseen pairs with the
raw features (cosine similarity, the query itself left out of its gallery), and
the chance level (the same with random scores). A benchmark is useful only if
both modalities are clearly above chance and text->text is well below 1.
"""

import sys

import numpy as np
from sklearn.metrics import label_ranking_average_precision_score

from skgcrdp import split_modalities
from skgcrdp.benchmark import default_episodes, load_benchmark_data
from skgcrdp.model_selection import ClassDisjointSplit
from skgcrdp.utils import normalize_rows


def map_without_self(scores, y):
    """mAP@all of each item against all the others (self removed from the gallery)."""
    n = len(y)
    off_diagonal = ~np.eye(n, dtype=bool)
    relevant = (y[:, None] == y[None, :])[off_diagonal].reshape(n, n - 1)
    return label_ranking_average_precision_score(relevant, scores[off_diagonal].reshape(n, n - 1))


def main(names):
    print("| data set | episodes | unseen pairs | image→image | text→text | chance |")
    print("| --- | --- | --- | --- | --- | --- |")
    rng = np.random.default_rng(0)
    for name in names:
        data = load_benchmark_data(name)
        episodes = default_episodes(data)
        cv = ClassDisjointSplit(episodes, test_size=0.5, random_state=0)
        rows = []
        for _, unseen in cv.split(data.X, data.y):
            image, text = split_modalities(data.X[unseen], data.n_image_features)
            y = data.y[unseen]
            rows.append([
                map_without_self(normalize_rows(image) @ normalize_rows(image).T, y),
                map_without_self(normalize_rows(text) @ normalize_rows(text).T, y),
                map_without_self(rng.random((len(y), len(y))), y),
                len(y),
            ])
        mean, std = np.mean(rows, axis=0), np.std(rows, axis=0)
        cells = [f"{m:.4f} ± {s:.4f}" for m, s in zip(mean[:3], std[:3])]
        print(f"| {data.name} | {episodes} | {mean[3]:.0f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["wikipedia", "openclipart"])
