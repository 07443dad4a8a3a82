"""Choose GCRDP defaults by class-disjoint cross-validation inside the seen classes.

For each outer episode of the benchmark (same seed, half the classes unseen),
every variant is scored by an inner class-disjoint CV that uses the seen classes
only (``--inner-splits`` draws, half of the seen classes held out each time):
that score is what a default is chosen by, and it is also given as a paired
difference to the defaults over the same folds (mean ± standard error), since
the folds' own spread is mostly the folds', not the variants'. The unseen-class
("outer") mAP of the variant fitted on all seen classes is printed beside it
for information only; it never chooses anything.

    python benchmarks/select_defaults.py --inner-test-size 2      # every variant, Wikipedia,
                                                                  # as docs/user_guide/results.md ran it
    python benchmarks/select_defaults.py "no aligner" default     # some of them
    python benchmarks/select_defaults.py --data openclipart --shots 5 --episodes 3 \
        --inner-splits 5 default "instance_weight=0.9 (previous default)"
"""

import argparse
import time
import warnings

import numpy as np

from skgcrdp import make_gcrdp_pipeline
from skgcrdp.benchmark import load_benchmark_data
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
    # The target's split between partner, class samples and prototypes, on both data sets.
    "instance_weight=0.9 (previous default)": {"extract__instance_weight": 0.9},
    "instance_weight=0.5": {"extract__instance_weight": 0.5},
    "instance_weight=0.5, no GMM prototypes": {
        "extract__instance_weight": 0.5, "extract__prototype_weight": 0.0
    },
    "prototype_weight=1": {"extract__prototype_weight": 1.0},
    "no GMM prototypes": {"extract__prototype_weight": 0.0},
    # Few pairs per class: a larger class-level share, and what the prototypes add to it.
    "instance_weight=0.5, prototype_weight=1": {
        "extract__instance_weight": 0.5, "extract__prototype_weight": 1.0
    },
    "instance_weight=0.3": {"extract__instance_weight": 0.3},
    "instance_weight=0.3, no GMM prototypes": {
        "extract__instance_weight": 0.3, "extract__prototype_weight": 0.0
    },
    "instance_weight=0.3, prototype_weight=1": {
        "extract__instance_weight": 0.3, "extract__prototype_weight": 1.0
    },
    # Classes too small for a mixture (under 8 pairs, e.g. five-shot): the previous extractor
    # gave them a one-component "mixture" anyway.
    "every class a mixture (min_pairs_for_mixture=1)": {"extract__min_pairs_for_mixture": 1},
    # With relative profiles beside the learned space (fixed weight 2, what the union's own
    # inner CV chooses most often): which learned space complements them best?
    "profiles w=2": {"relative_profiles": 2.0},
    "profiles w=2, instance_weight=0.5": {"relative_profiles": 2.0, "extract__instance_weight": 0.5},
    "profiles w=2, instance_weight=0.3": {"relative_profiles": 2.0, "extract__instance_weight": 0.3},
    "profiles w=2, no GMM prototypes": {"relative_profiles": 2.0, "extract__prototype_weight": 0.0},
    "profiles w=2, no aligner": {"relative_profiles": 2.0, "align": "passthrough"},
    "profiles w=2, SupCon MLP": {
        "relative_profiles": 2.0, "align": "passthrough", "extract__prototype_weight": 0.0,
        "extract__instance_weight": 0.0,
    },
}


def evaluate(params, data, n_episodes, shots, inner_splits, inner_test_size):
    """Inner-CV scores (one per fold, in a fixed fold order) and the mean unseen-class score.

    ``params`` are ``make_gcrdp_pipeline`` keywords, or a function of the image width that
    returns them (for variants that put new estimators in, fresh for every fit).
    """
    X, y, n_image = data.X, data.y, data.n_image_features

    def fitted(X_fit, y_fit):
        kwargs = params(n_image) if callable(params) else params
        return make_gcrdp_pipeline(n_image, random_state=0, **kwargs).fit(X_fit, y_fit)

    inner, outer = [], []
    outer_cv = ClassDisjointSplit(n_episodes, test_size=0.5, n_shots=shots, random_state=0)
    for episode, (seen, unseen) in enumerate(outer_cv.split(X, y)):
        Xs, ys = X[seen], y[seen]
        inner_cv = ClassDisjointSplit(inner_splits, test_size=inner_test_size, n_shots=shots,
                                      random_state=episode)
        for fit, val in inner_cv.split(Xs, ys):
            inner.append(fitted(Xs[fit], ys[fit]).score(Xs[val], ys[val]))
        outer.append(fitted(Xs, ys).score(X[unseen], y[unseen]))
    return np.asarray(inner), np.mean(outer)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help=f"names from: {', '.join(VARIANTS)}")
    parser.add_argument("--data", default="wikipedia", help="embedded name or file")
    parser.add_argument("--shots", default="all", help="pairs per seen class: all or an int")
    parser.add_argument("--episodes", type=int, default=3, help="outer episodes")
    parser.add_argument("--inner-splits", type=int, default=2, help="inner CV draws per episode")
    parser.add_argument("--inner-test-size", type=float, default=0.5,
                        help="held-out share of the seen classes (>= 1: a number of classes)")
    parser.add_argument("--reference", default="default",
                        help="the variant the paired differences are taken to")
    args = parser.parse_args(argv)
    unknown = [name for name in [*args.variants, args.reference] if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}")
    warnings.filterwarnings("ignore")
    data = load_benchmark_data(args.data)
    shots = None if args.shots == "all" else int(args.shots)
    names = [args.reference, *[n for n in args.variants or VARIANTS if n != args.reference]]
    print(f"{data.name}; pairs per seen class: {args.shots}; {args.episodes} episodes x "
          f"{args.inner_splits} inner splits")
    print(f"| variant | inner CV mAP (selects) | paired difference to {args.reference!r} ± se "
          "| unseen mAP (reported) | s per variant |")
    print("| --- | --- | --- | --- | --- |")
    reference = None
    for name in names:
        start = time.perf_counter()
        test_size = int(args.inner_test_size) if args.inner_test_size >= 1 else args.inner_test_size
        inner, outer = evaluate(VARIANTS[name], data, args.episodes, shots, args.inner_splits,
                                test_size)
        reference = inner if reference is None else reference
        diff = inner - reference
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
        print(f"| {name} | {inner.mean():.4f} | {diff.mean():+.4f} ± {se:.4f} | {outer:.4f} "
              f"| {time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()
