"""Choose GCRDP defaults by class-disjoint cross-validation inside the seen classes.

For each outer episode (5 seen / 5 unseen Wikipedia classes), every variant is
scored by an inner class-disjoint CV that uses the seen classes only (3 to
train, 2 to validate, 2 draws): that score is what a default is chosen by. The
unseen-class ("outer") mAP of the variant fitted on all seen classes is
printed beside it for information only; it never chooses anything.

    python benchmarks/select_defaults.py                 # every variant
    python benchmarks/select_defaults.py noalign default # some of them
    SHOTS=5 python benchmarks/select_defaults.py         # 5 pairs per seen class
"""

import os
import sys
import time
import warnings

import numpy as np

from skgcrdp import make_gcrdp_pipeline
from skgcrdp.datasets import load_wikipedia
from skgcrdp.model_selection import ClassDisjointSplit

VARIANTS = {
    "default": {},
    "no aligner": {"align": "passthrough"},
    "aligner rdp_weight=0 (contrastive only)": {"align__rdp_weight": 0.0},
    "aligner rdp_weight=0.1": {"align__rdp_weight": 0.1},
    "aligner distance_temperature=1": {"align__distance_temperature": 1.0},
    "aligner temperature=0.5": {"align__temperature": 0.5},
    "aligner lr=1e-4": {"align__lr": 1e-4},
    "no aligner, no GMM prototypes": {"extract__prototype_weight": 0.0, "align": "passthrough"},
    "no aligner, instance_weight=0 (SupCon)": {"extract__instance_weight": 0.0, "align": "passthrough"},
    "no aligner, instance_weight=0.75": {"extract__instance_weight": 0.75, "align": "passthrough"},
    "no aligner, instance_weight=1": {"extract__instance_weight": 1.0, "align": "passthrough"},
    "no aligner, temperature=0.1": {"extract__temperature": 0.1, "align": "passthrough"},
    "no aligner, temperature=1": {"extract__temperature": 1.0, "align": "passthrough"},
    "no aligner, max_epochs=10": {"extract__max_epochs": 10, "align": "passthrough"},
    "no aligner, max_epochs=40": {"extract__max_epochs": 40, "align": "passthrough"},
    "no aligner, dropout=0.2": {"extract__dropout": 0.2, "align": "passthrough"},
    "no aligner, linear encoders": {"extract__n_hidden_layers": 0, "align": "passthrough"},
    "no aligner, embedding_dim=16": {"extract__embedding_dim": 16, "align": "passthrough"},
    "no aligner, batch_size=1024, max_epochs=40": {
        "extract__batch_size": 1024, "extract__max_epochs": 40, "align": "passthrough"
    },
}


def evaluate(params, X, y, n_episodes=3, shots=None):
    inner, outer = [], []
    for episode, (seen, unseen) in enumerate(
        ClassDisjointSplit(n_episodes, n_shots=shots, random_state=0).split(X, y)
    ):
        Xs, ys = X[seen], y[seen]
        inner_cv = ClassDisjointSplit(2, test_size=2, n_shots=shots, random_state=episode)
        for fit, val in inner_cv.split(Xs, ys):
            model = make_gcrdp_pipeline(128, random_state=0, **params).fit(Xs[fit], ys[fit])
            inner.append(model.score(Xs[val], ys[val]))
        model = make_gcrdp_pipeline(128, random_state=0, **params).fit(Xs, ys)
        outer.append(model.score(X[unseen], y[unseen]))
    return np.mean(inner), np.mean(outer)


def main(names):
    warnings.filterwarnings("ignore")
    X, y = load_wikipedia(return_X_y=True)
    shots = int(os.environ["SHOTS"]) if os.environ.get("SHOTS") else None
    print(f"pairs per seen class: {shots or 'all'}")
    print("| variant | inner CV mAP (selects) | unseen mAP (reported) | s per variant |")
    print("| --- | --- | --- | --- |")
    for name in names or VARIANTS:
        start = time.perf_counter()
        inner, outer = evaluate(VARIANTS[name], X, y, shots=shots)
        print(f"| {name} | {inner:.4f} | {outer:.4f} | {time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
