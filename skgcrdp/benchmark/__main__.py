"""``python -m skgcrdp.benchmark``: few-shot cross-modal retrieval, GCRDP against baselines.

Runs class-disjoint episodes (half of the classes seen, the rest unseen)
for each K (pairs per seen class), fits every method on the seen pairs and
scores mAP@all on the unseen ones. Prints the table and writes
``results.csv`` (one row per K, episode and method), ``results.md`` (the
tables) and ``results.png`` (the plot) into the output folder.
"""

import argparse
import ast
import shlex
import sys
import time
from pathlib import Path

from ._datasets import WIKIPEDIA, load_benchmark_data
from ._methods import METHODS
from ._protocol import run_benchmark, summarize
from ._report import PLOT_HINT, format_markdown, format_text, plot_summary

DEFAULT_SHOTS = ("all", "5")
DEFAULT_EPISODES = 10


def _shots(value):
    if value == "all":
        return None
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"K must be 'all' or a positive int, got {value!r}")
    if k < 1:
        raise argparse.ArgumentTypeError(f"K must be 'all' or a positive int, got {value!r}")
    return k


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
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data", default=WIKIPEDIA,
                        help="'wikipedia' (embedded) or a .npz (X, y, n_image_features) or "
                             ".csv (img__*, txt__* and label columns) file")
    parser.add_argument("--label-column", default="label", help="label column of a CSV file")
    parser.add_argument("--shots", "-K", nargs="+", type=_shots, default=[_shots(s) for s in DEFAULT_SHOTS],
                        metavar="K", help="pairs per seen class: 'all' or ints")
    parser.add_argument("--episodes", type=int, default=DEFAULT_EPISODES,
                        help="class-disjoint episodes per K")
    parser.add_argument("--methods", nargs="+", default=None, metavar="NAME",
                        help=f"methods to run (default all): {', '.join(map(repr, METHODS))}")
    parser.add_argument("--test-size", type=float, default=0.5,
                        help="share of classes unseen per episode")
    parser.add_argument("--output", default="benchmark-results", help="folder for results")
    parser.add_argument("--device", default="auto", help="torch device of the trained methods")
    parser.add_argument("--random-state", type=int, default=0, help="seed of the episodes")
    parser.add_argument("--param", action="append", type=_param, default=[], metavar="KEY=VALUE",
                        help="GCRDP pipeline parameter, e.g. extract__max_epochs=10 (repeatable)")
    parser.add_argument("--no-plot", action="store_true", help="skip the plot")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    data = load_benchmark_data(args.data, args.label_column)
    start = time.perf_counter()
    results = run_benchmark(
        data,
        shots=args.shots,
        n_episodes=args.episodes,
        methods=args.methods,
        test_size=args.test_size,
        device=args.device,
        random_state=args.random_state,
        gcrdp_params=dict(args.param),
        progress=not args.quiet,
    )
    elapsed = time.perf_counter() - start
    summary = summarize(results)

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    results.drop(columns=["traceback"], errors="ignore").to_csv(output / "results.csv", index=False)
    classes = len(set(data.y))
    setting = (f"{data.name}: {len(data.y)} pairs, {classes} classes, {data.n_image_features} image + "
               f"{data.n_text_features} text features; {args.episodes} class-disjoint episodes per K "
               f"(unseen share {args.test_size}); unseen-class mAP@all; {elapsed:.0f} s in all")
    command = "python -m skgcrdp.benchmark " + shlex.join(argv if argv is not None else sys.argv[1:])
    plot = None if args.no_plot else plot_summary(summary, output / "results.png", title=data.name)
    markdown = [f"# Benchmark results\n\n`{command.strip()}`\n\n{setting}.\n", format_markdown(summary)]
    if plot:
        markdown.append("\n![unseen-class mAP per method and K](results.png)")
    (output / "results.md").write_text("\n".join(markdown) + "\n", encoding="utf-8")

    print(f"\n{setting}.\n")
    print(format_text(summary))
    failures = results[results["error"].notna()]
    for _, row in failures.iterrows():
        print(f"\n{row['method']} failed in K={row['K']} episode {row['episode']}: {row['error']}",
              file=sys.stderr)
    written = ["results.csv", "results.md"] + (["results.png"] if plot else [])
    print(f"\nwritten to {output}/: {', '.join(written)}")
    if plot is None and not args.no_plot:
        print(f"({PLOT_HINT})")
    return summary


if __name__ == "__main__":
    main()
