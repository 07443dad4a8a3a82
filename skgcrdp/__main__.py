"""``python -m skgcrdp``: a short GCRDP demo on the embedded Wikipedia data.

Each episode draws half of the ten classes as seen and the rest as unseen;
every method is fitted on the seen classes' pairs and scored by mAP@all
(image->text, text->image, mean) on the unseen ones. GCRDP runs next to
PLS (a strong linear baseline on this data) and a random projection (the
chance level).
"""

import argparse
import time

import pandas as pd
from sklearn.cross_decomposition import PLSCanonical

from .baselines import CrossDecompositionEmbedder, RandomProjectionEmbedder
from .datasets import load_wikipedia
from .metrics import cross_modal_retrieval_score
from .model_selection import ClassDisjointSplit
from .pipeline import make_gcrdp_pipeline

N_IMAGE = 128


def methods(seed, device):
    """The compared embedders, each a fit/transform estimator on paired X."""
    return {
        "GCRDP": make_gcrdp_pipeline(N_IMAGE, random_state=seed, device=device)[:-1],
        "PLS (10 components)": CrossDecompositionEmbedder(N_IMAGE, PLSCanonical(n_components=10)),
        "random projection": RandomProjectionEmbedder(N_IMAGE, n_components=10, random_state=seed),
    }


def run(n_episodes=3, random_state=0, device="auto"):
    """Run the demo episodes; return one row per (episode, method)."""
    X, y = load_wikipedia(return_X_y=True)
    cv = ClassDisjointSplit(n_splits=n_episodes, test_size=0.5, random_state=random_state)
    rows = []
    for episode, (seen, unseen) in enumerate(cv.split(X, y)):
        for name, model in methods(episode, device).items():
            start = time.perf_counter()
            model.fit(X[seen], y[seen])
            row = {"episode": episode, "method": name, "fit_seconds": time.perf_counter() - start}
            Z = model.transform(X[unseen])
            for direction in ("image_to_text", "text_to_image"):
                row[direction] = cross_modal_retrieval_score(Z, y[unseen], direction=direction)
            row["mean"] = (row["image_to_text"] + row["text_to_image"]) / 2
            rows.append(row)
            print(f"episode {episode}: {name:<22} mAP {row['mean']:.4f}", flush=True)
    return pd.DataFrame(rows)


def summarize(results):
    """Mean and standard deviation over episodes, per method."""
    grouped = results.groupby("method", sort=False)
    summary = grouped[["image_to_text", "text_to_image", "mean", "fit_seconds"]].mean().round(4)
    summary.insert(3, "mean_std", grouped["mean"].std().round(4))
    return summary.sort_values("mean", ascending=False)


def plot(summary, path):
    """Bar chart of the mean unseen-class mAP per method; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(no plot: pip install matplotlib, or install skgcrdp with the [plot] extra)")
        return None
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh(summary.index[::-1], summary["mean"][::-1], xerr=summary["mean_std"][::-1], color="tab:blue")
    ax.set_xlabel("unseen-class mAP@all, mean of both directions")
    ax.set_title("Wikipedia, 5 seen / 5 unseen classes")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3, help="class-disjoint episodes (default 3)")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--device", default="auto", help="torch device (default: auto)")
    parser.add_argument("--plot", default="skgcrdp-demo.png", help="where to save the plot")
    args = parser.parse_args(argv)
    summary = summarize(run(args.episodes, args.random_state, args.device))
    print("\nUnseen-class mAP@all on Wikipedia (5 seen / 5 unseen classes, "
          f"{args.episodes} episodes):\n")
    print(summary.to_string())
    if plot(summary, args.plot):
        print(f"\nplot saved to {args.plot}")
    return summary


if __name__ == "__main__":
    main()
