"""Write the documentation's result tables from the result files in ``docs/results/``.

No number in a results table of the user guide or the README is typed by hand: each comes from
a CSV file under ``docs/results/``. ``benchmark.csv`` is the ``results.csv`` that
``python3 -m skgcrdp.benchmark --output DIR`` writes (one row per data set, K, episode and
method); the other files were transcribed once from the printout of the script that their
header comment names.

The documentation build runs this script (``docs/conf.py``) and the pages include the Markdown
tables it writes to ``docs/_generated/``. ``python3 docs/make_tables.py --readme`` prints the
README's results table, which a test compares with the README.
"""

import argparse
import csv
import io
import sys
from pathlib import Path

import pandas as pd

DOCS = Path(__file__).resolve().parent
RESULTS = DOCS / "results"
GENERATED = DOCS / "_generated"
BENCHMARK = RESULTS / "benchmark.csv"

DATA_NAMES = {"wikipedia": "Wikipedia", "openclipart": "Open Clip Art"}
# Columns of the benchmark's results.csv that are not unseen-class scores. Any other numeric
# column (a later score, such as typed-query mAP) gets columns of its own in the tables.
BOOKKEEPING = {"data", "K", "episode", "method", "kind", "image_to_text", "text_to_image", "mean",
               "fit_seconds", "peak_memory_mib", "peak_gpu_memory_mib", "n_train_pairs",
               "n_test_pairs", "error", "chosen", "traceback"}
BASELINE_KINDS = ("baseline", "chance")
# Headers of extra score columns; others are shown with "_" as spaces.
SCORE_NAMES = {"typed_query_map": "typed-query mAP"}


def read_result_file(path):
    """Read a CSV result file whose leading ``#`` lines say where its numbers come from.

    Returns
    -------
    header : list of str
    rows : list of list of str
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    body = [line for line in lines if not line.startswith("#")]
    header, *rows = csv.reader(io.StringIO("\n".join(body)))
    return header, rows


def markdown_table(header, rows):
    """Format a header and rows of strings as a Markdown (GitHub) table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def load_benchmark(path=BENCHMARK):
    """Read the benchmark's ``results.csv`` (after its ``#`` lines), with K as text ("all", "5")."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    comments = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    results = pd.read_csv(path, dtype={"K": str}, skiprows=comments)
    if "data" not in results:
        results.insert(0, "data", "data")
    return results


def extra_score_columns(results):
    """Numeric columns of ``results`` that are scores beyond the mean mAP, in file order."""
    return [column for column in results.columns
            if column not in BOOKKEEPING and pd.api.types.is_numeric_dtype(results[column])
            and results[column].notna().any()]


def summarize(results):
    """Mean and spread over episodes per data set, K and method, in the file's order.

    Returns a DataFrame indexed by ``(data, K, method)`` with ``mean``, ``std`` (over episodes,
    ddof=0, as the benchmark's own summary), ``vs_best_baseline``, ``fit_seconds``, ``kind``
    and the mean of every extra score column.
    """
    grouped = results.groupby(["data", "K", "method"], sort=False)
    summary = grouped[["mean", "fit_seconds", *extra_score_columns(results)]].mean()
    summary["std"] = grouped["mean"].std(ddof=0)
    summary["kind"] = grouped["kind"].first() if "kind" in results else "method"
    baseline = summary["mean"].where(summary["kind"].isin(BASELINE_KINDS))
    best = baseline.groupby(level=["data", "K"], sort=False).transform("max")
    summary["vs_best_baseline"] = summary["mean"] / best
    return summary


def _score_name(column):
    return SCORE_NAMES.get(column, column.replace("_", " "))


def _data_name(key):
    return DATA_NAMES.get(key, key)


def _bold_best(cells, values):
    best = max(v for v in values if pd.notna(v))
    return [f"**{cell}**" if value == best else cell for cell, value in zip(cells, values)]


def method_table(summary, extras, data_names=True):
    """Methods as rows; per score, data set and K a column of means, the best in bold.

    The mean mAP is shown ± its std over episodes; an extra score column (such as typed-query
    mAP) gets a column for each data set and K where it was measured.
    """
    methods = list(dict.fromkeys(summary.index.get_level_values("method")))
    groups = list(dict.fromkeys(zip(summary.index.get_level_values("data"),
                                    summary.index.get_level_values("K"))))
    columns = []  # (header, cells per method)
    for score in ["mean", *extras]:
        for data, k in groups:
            part = summary.loc[(data, k)]
            if part[score].isna().all():
                continue
            label = "mAP" if score == "mean" else _score_name(score)
            header = (f"{_data_name(data)} {label}, K = {k}" if data_names
                      else f"K = {k}" if score == "mean" else f"{label}, K = {k}")
            values = [part[score].get(method, float("nan")) for method in methods]
            cells = ["–" if pd.isna(value)
                     else f"{value:.4f} ± {part['std'][method]:.3f}" if score == "mean"
                     else f"{value:.4f}" for method, value in zip(methods, values)]
            columns.append((header, _bold_best(cells, values)))
    rows = [[method, *(cells[i] for _, cells in columns)] for i, method in enumerate(methods)]
    return markdown_table(["method", *(header for header, _ in columns)], rows)


def readme_table(path=BENCHMARK):
    """The README's table: each method's unseen-class mAP ± std per data set and K."""
    results = load_benchmark(path)
    return method_table(summarize(results), extra_score_columns(results))


def benchmark_tables(path=BENCHMARK):
    """Per data set, each method's mAP ± std per K, and its ratio to the best baseline per K."""
    results = load_benchmark(path)
    summary = summarize(results)
    extras = extra_score_columns(results)
    tables = {}
    for data in dict.fromkeys(summary.index.get_level_values("data")):
        # No fit times: they were measured while other work shared the machine's cores.
        tables[f"benchmark_{data}"] = method_table(summary.loc[[data]], extras, data_names=False)
        part = summary.loc[data]
        ratios = part["vs_best_baseline"].unstack("K").reindex(
            index=list(dict.fromkeys(part.index.get_level_values("method"))),
            columns=list(dict.fromkeys(part.index.get_level_values("K"))))
        rows = [[method, *(f"{value:.3f}" for value in row)] for method, row in ratios.iterrows()]
        tables[f"benchmark_{data}_ratios"] = markdown_table(
            ["method", *(f"K = {k}" for k in ratios.columns)], rows)
    return tables


def decision_table(path=BENCHMARK):
    """Per data set and K: the best and the second-best method with their mAP."""
    summary = summarize(load_benchmark(path))
    rows = []
    for (data, k), part in summary.groupby(level=["data", "K"], sort=False):
        ranked = part["mean"].droplevel(["data", "K"]).sort_values(ascending=False)
        (first, a), (second, b) = list(ranked.items())[:2]
        rows.append([_data_name(data), k, f"{first} {a:.4f}", f"{second} {b:.4f}", f"{a - b:.4f}"])
    return markdown_table(["data", "K", "best", "runner-up", "gap"], rows)


def all_tables():
    """Every generated table, keyed by the name of its file in ``docs/_generated/``."""
    tables = {}
    if BENCHMARK.exists():
        tables.update(benchmark_tables())
        tables["benchmark_readme"] = readme_table()
        tables["which_method_decision"] = decision_table()
    for path in sorted(RESULTS.glob("*.csv")):
        if path != BENCHMARK:
            tables[path.stem] = markdown_table(*read_result_file(path))
    return tables


def write_tables(folder=GENERATED):
    """Write every table to ``folder`` as ``<name>.txt`` (Markdown that the pages include).

    The files do not end in ``.md``, so that Sphinx does not take them for pages of their own.
    Returns the paths written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in all_tables().items():
        path = folder / f"{name}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != table:
            path.write_text(table, encoding="utf-8")
        written.append(path)
    return written


def main(argv=None):
    """Write the tables, or print the README's table with ``--readme``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="print the README's results table")
    parser.add_argument("--output", default=str(GENERATED), help="folder for the tables")
    args = parser.parse_args(argv)
    if args.readme:
        sys.stdout.write(readme_table())
        return 0
    for path in write_tables(args.output):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
