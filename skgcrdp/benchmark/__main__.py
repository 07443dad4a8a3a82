"""``python -m skgcrdp.benchmark``: few-shot cross-modal retrieval, GCRDP against baselines.

Runs class-disjoint episodes (half of the classes seen, the rest unseen)
for each K (pairs per seen class), fits every method on the seen pairs and
scores mAP@all on the unseen ones; on Open Clip Art also the mAP of
typed queries (each unseen class's name, in three phrasings, against the
unseen pictures). Prints the table and writes
``results.csv`` (one row per K, episode and method), ``results.md`` (the
tables) and ``results.png`` (the plot) into the output folder.
"""

import argparse
import ast
import shlex
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..preprocessing import ModalityTransformer
from ._datasets import (
    DEFAULT_EPISODES,
    EMBEDDED,
    EPISODES_BY_DATA,
    default_episodes,
    load_benchmark_data,
)
from ._methods import METHODS, resolve_methods
from ._progress import Progress
from ._protocol import compare_data_sets, episode_work, plan_episodes, run_benchmark, summarize
from ._report import PLOT_HINT, format_markdown, format_text, plot_summary
from ._typed_queries import ENCODERS_HINT, encoders_installed, supports_typed_queries

__all__ = ["build_parser", "main"]

DEFAULT_SHOTS = ("all", "5", "1")


def _count_or(word, meaning, option):
    """An argparse type: a positive int, or ``word`` (returned as ``meaning``)."""

    def parse(value):
        if value == word:
            return meaning
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            raise argparse.ArgumentTypeError(
                f"{option} takes {word!r} or a positive int, got {value!r}")
        return n

    return parse


_shots = _count_or("all", None, "K")
_episodes = _count_or("auto", "auto", "--episodes")
_jobs = _count_or("auto", -1, "--jobs")
_image_pca = _count_or("none", None, "--image-pca")
_text_pca = _count_or("none", None, "--text-pca")


def _preprocess(image_pca, text_pca):
    """Per-modality standardisation and PCA in front of every method, or None."""
    if image_pca is None and text_pca is None:
        return None

    def step(n):
        return "passthrough" if n is None else make_pipeline(StandardScaler(), PCA(n))

    return ModalityTransformer(image=step(image_pca), text=step(text_pca))


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults as a user would type them: ``all 5 1``, not ``[None, 5, 1]``."""

    def _get_help_string(self, action):
        if action.dest == "shots":
            return f"{action.help} (default: {' '.join(DEFAULT_SHOTS)})"
        if action.dest == "typed_queries":
            return f"{action.help} (default: on where the sentence encoder is installed)"
        if action.default is False or action.default == []:  # flags, repeatable options
            return action.help
        if action.default is None:
            return f"{action.help} (default: none)"
        return super()._get_help_string(action)


def _param(value):
    key, sep, raw = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--param takes KEY=VALUE, got {value!r}")
    try:
        return key, ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return key, raw


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m skgcrdp.benchmark",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--data", nargs="+", default="all", metavar="DATA",
                        help=f"data sets: 'all' (the embedded {' and '.join(map(repr, EMBEDDED))}), "
                             "embedded names, or .npz (X, y, n_image_features) / .csv (img__*, "
                             "txt__* and label columns) files")
    parser.add_argument("--label-column", default="label", help="label column of a CSV file")
    parser.add_argument("--shots", "-K", nargs="+", type=_shots, default=[_shots(s) for s in DEFAULT_SHOTS],
                        metavar="K", help="pairs per seen class: 'all' or ints")
    parser.add_argument("--episodes", type=_episodes, default="auto",
                        help=f"class-disjoint episodes per K; 'auto': {DEFAULT_EPISODES}, "
                             + ", ".join(f"{n} for {name}" for name, n in EPISODES_BY_DATA.items()))
    parser.add_argument("--methods", nargs="+", default="default", metavar="NAME",
                        help="methods to run: 'default' (all but "
                             + ", ".join(repr(m.name) for m in METHODS.values() if not m.default)
                             + f"), 'all', or names from {', '.join(map(repr, METHODS))}")
    parser.add_argument("--full", action="store_true",
                        help="run every method (the same as --methods all)")
    parser.add_argument("--test-size", type=float, default=0.5,
                        help="share of classes unseen per episode")
    parser.add_argument("--output", default="benchmark-results", help="folder for results")
    parser.add_argument("--device", default="auto", help="torch device of the trained methods")
    parser.add_argument("--random-state", type=int, default=0, help="seed of the episodes")
    parser.add_argument("--jobs", "-j", type=_jobs, default="auto",
                        help="episodes run at once, one process and one torch thread each; "
                             "'auto': one per core")
    parser.add_argument("--image-pca", type=_image_pca, default=None, metavar="N",
                        help="standardise the image features and keep N principal components, "
                             "for every method ('none' or an int)")
    parser.add_argument("--text-pca", type=_text_pca, default=None, metavar="N",
                        help="the same for the text features")
    parser.add_argument("--param", action="append", type=_param, default=[], metavar="KEY=VALUE",
                        help="GCRDP pipeline parameter, e.g. extract__max_epochs=10 (repeatable)")
    parser.add_argument("--typed-queries", action=argparse.BooleanOptionalAction, default=None,
                        help="also score typed queries, a column of its own: each unseen class's "
                             "name in three phrasings ('fruit', 'a drawing of fruit', 'clip art "
                             "of food: fruit'), embedded by the sentence model of the captions, "
                             "through each method's text side, against the unseen pictures "
                             "(mAP@all). Open Clip Art only: Wikipedia's text features are LDA "
                             "topics with no sentence model, so its column is empty (as for "
                             "files); needs the encoders extra")
    parser.add_argument("--no-plot", action="store_true", help="skip the plot")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress lines (one per data set and K, with the time left)")
    return parser


def _check_pca(data, image_pca, text_pca):
    for option, n, width in (("--image-pca", image_pca, data.n_image_features),
                             ("--text-pca", text_pca, data.n_text_features)):
        if n is not None and n > width:
            raise ValueError(f"{option} {n} is more components than {data.name} has "
                             f"features in that modality ({width}).")


def _data_sources(values):
    if values == "all" or "all" in values:
        return list(EMBEDDED)
    return list(dict.fromkeys(values))


def _setting(data, episodes, test_size, elapsed):
    return (f"{data.name}: {len(data.y)} pairs, {len(set(data.y))} classes, "
            f"{data.n_image_features} image + {data.n_text_features} text features; {episodes} "
            f"class-disjoint episodes per K (unseen share {test_size}); unseen-class mAP@all; "
            f"{elapsed:.0f} s")


def main(argv=None):
    """Run the benchmark as the command line asks; return ``{data key: summary}``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    full = args.full or args.methods == "all" or "all" in args.methods
    methods = None if full or args.methods == "default" or "default" in args.methods else args.methods
    try:
        # Check names and load every data set before the first fit: a typo must
        # not cost a long run, nor end one.
        n_methods = len(resolve_methods(methods, full=full))
        data_sets = [load_benchmark_data(source, args.label_column)
                     for source in _data_sources(args.data)]
        for data in data_sets:
            _check_pca(data, args.image_pca, args.text_pca)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    typed = "auto" if args.typed_queries is None else args.typed_queries
    if typed and any(map(supports_typed_queries, data_sets)) and not encoders_installed():
        if typed is True:
            parser.error(f"{ENCODERS_HINT}.")
        print(f"(no typed queries: {ENCODERS_HINT})", file=sys.stderr)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    command = "python -m skgcrdp.benchmark " + shlex.join(argv if argv is not None else sys.argv[1:])

    def n_episodes(data):
        return default_episodes(data) if args.episodes == "auto" else args.episodes

    try:
        # One estimate of the time left over every data set.
        progress = Progress(sum(
            episode_work(data, plan_episodes(data, args.shots, n_episodes(data), args.test_size,
                                             args.random_state), n_methods)
            for data in data_sets), enabled=not args.quiet)
    except ValueError as exc:  # e.g. more unseen classes asked for than a data set has
        parser.error(str(exc))
    all_results, summaries, settings = [], {}, []
    for data in data_sets:
        episodes = n_episodes(data)
        start = time.perf_counter()
        results = run_benchmark(
            data,
            shots=args.shots,
            n_episodes=episodes,
            methods=methods,
            full=full,
            test_size=args.test_size,
            device=args.device,
            random_state=args.random_state,
            gcrdp_params=dict(args.param),
            preprocess=_preprocess(args.image_pca, args.text_pca),
            progress=progress,
            n_jobs=args.jobs,
            typed_queries=typed,
        )
        setting = _setting(data, episodes, args.test_size, time.perf_counter() - start)
        summary = summaries[data.key] = summarize(results)
        settings.append((data.name, setting))
        all_results.append(results.assign(data=data.key))
        print(f"\n{setting}.\n")
        print(format_text(summary))
        for _, row in results[results["error"].notna()].iterrows():
            print(f"\n{row['method']} failed in K={row['K']} episode {row['episode']}: "
                  f"{row['error']}", file=sys.stderr)

    results = pd.concat(all_results, ignore_index=True)
    columns = ["data", *[c for c in results.columns if c not in ("data", "traceback")]]
    results[columns].to_csv(output / "results.csv", index=False)
    markdown = [f"# Benchmark results\n\n`{command.strip()}`\n"]
    for (name, setting), summary in zip(settings, summaries.values()):
        markdown += [f"## {name}\n\n{setting}.\n", format_markdown(summary), ""]
    if len(summaries) > 1:
        combined = compare_data_sets(summaries)
        print("\nRatio to the best baseline, per data set and K, and their mean:\n")
        print(format_text(combined))
        markdown += ["## All data sets\n\nRatio of each method's mAP to the best baseline's, "
                     "per data set and K, and their mean.\n", format_markdown(combined), ""]
    # Panels are titled by name; two files of one name would share a title, so
    # those are titled by their path.
    names = [data.name for data in data_sets]
    titles = {data.key: data.name if names.count(data.name) == 1 else data.key
              for data in data_sets}
    plot = None if args.no_plot else plot_summary(
        {titles[key]: summary for key, summary in summaries.items()}, output / "results.png")
    if plot:
        markdown.append("![unseen-class mAP per data set, method and K](results.png)")
    (output / "results.md").write_text("\n".join(markdown) + "\n", encoding="utf-8")

    written = ["results.csv", "results.md"] + (["results.png"] if plot else [])
    print(f"\nwritten to {output}/: {', '.join(written)}")
    if plot is None and not args.no_plot:
        print(f"({PLOT_HINT})")
    return summaries


if __name__ == "__main__":
    main()
