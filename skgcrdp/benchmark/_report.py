"""Tables and plot of a benchmark run."""

import numpy as np

__all__ = ["PLOT_HINT", "format_markdown", "format_text", "plot_summary"]

PLOT_HINT = (
    "no plot: matplotlib is not installed "
    "(pip install matplotlib, or install skgcrdp with the [plot] extra)"
)

# (column, header, format) of the tables, in order.
COLUMNS = [
    ("image_to_text", "image→text", "{:.4f}"),
    ("text_to_image", "text→image", "{:.4f}"),
    ("mean", "mAP (mean)", "{:.4f}"),
    ("std", "± std", "{:.4f}"),
    ("vs_best_baseline", "vs best baseline", "{:.3f}"),
    ("typed_query_map", "typed-query mAP", "{:.4f}"),
    ("fit_seconds", "fit (s)", "{:.2f}"),
    ("peak_memory_mib", "peak memory (MiB)", "{:.0f}"),
    ("peak_gpu_memory_mib", "peak GPU memory (MiB)", "{:.0f}"),
    ("episodes", "episodes", "{:d}"),
]


def _format(value, fmt):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return fmt.format(int(value) if fmt == "{:d}" else value)


def _rows(summary):
    if summary.index.nlevels == 1:  # a comparison across data sets: ratios by method
        header = [summary.index.name or "", *summary.columns]
        rows = [[method, *(_format(v, "{:.3f}") for v in values)]
                for method, values in zip(summary.index, summary.to_numpy())]
        return header, rows
    columns = [c for c in COLUMNS if c[0] in summary.columns]
    header = ["K", "method", *(c[1] for c in columns)]
    rows = [
        [k, method, *(_format(summary.loc[(k, method), c[0]], c[2]) for c in columns)]
        for k, method in summary.index
    ]
    return header, rows


def format_text(summary):
    """Fixed-width table of a summary (or of :func:`compare_data_sets`), for the terminal."""
    header, rows = _rows(summary)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    left = summary.index.nlevels
    lines = ["  ".join(str(cell).ljust(widths[i]) if i < left else str(cell).rjust(widths[i])
                       for i, cell in enumerate(row)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_markdown(summary):
    """Format a summary, or a comparison, as a Markdown table; each K's best mAPs in bold."""
    header, rows = _rows(summary)
    if summary.index.nlevels > 1:
        for column, title in (("mean", "mAP (mean)"), ("typed_query_map", "typed-query mAP")):
            if column not in summary or summary[column].isna().all():
                continue
            best = summary.groupby(level="K", sort=False)[column].transform("max")
            at = header.index(title)
            for row, (key, value) in zip(rows, summary[column].items()):
                if value == best[key]:
                    row[at] = f"**{row[at]}**"
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


KIND_COLOURS = {"GCRDP": "tab:red", "variant": "tab:purple", "ablation": "tab:orange",
                "baseline": "tab:blue", "selection": "tab:green", "chance": "tab:gray"}


def plot_summary(summary, path=None, title=None):
    """Mean unseen-class mAP per method, with the std over episodes: one panel per K.

    ``summary`` is one :func:`summarize` output, or a dict of them keyed by data
    set name (one row of panels per data set). With a ``path`` the figure is
    written there and the path returned; without one the open figure is
    returned (to show or adjust). Without matplotlib: None, after a hint.
    """
    try:
        import matplotlib

        if path is not None:
            matplotlib.use("Agg")  # writing a file needs no display
        import matplotlib.pyplot as plt
    except ImportError:
        print(PLOT_HINT)
        return None
    summaries = summary if isinstance(summary, dict) else {title: summary}
    ks = list(dict.fromkeys(k for s in summaries.values() for k in s.index.get_level_values("K")))
    n_methods = max(len(s.index.get_level_values("method").unique()) for s in summaries.values())
    fig, axes = plt.subplots(len(summaries), len(ks), squeeze=False,
                             figsize=(4.5 * len(ks), (0.4 * n_methods + 1.3) * len(summaries)))
    for row, (name, part_summary) in zip(axes, summaries.items()):
        for ax, k in zip(row, ks):
            if k not in part_summary.index.get_level_values("K"):
                ax.set_axis_off()
                continue
            part = part_summary.loc[k].iloc[::-1]
            colours = [KIND_COLOURS.get(kind, "tab:blue") for kind in part["kind"]]
            ax.barh(part.index, part["mean"], xerr=part["std"], color=colours)
            heading = ("all pairs per seen class" if k == "all"
                       else f"K = {k} pair{'s' if k != '1' else ''} per seen class")
            ax.set_title(f"{name}\n{heading}" if name and len(summaries) > 1 else heading,
                         fontsize=10)
            ax.set_xlabel("unseen-class mAP@all")
            low = np.nanmin(part["mean"] - part["std"])
            ax.set_xlim(left=max(0.0, low - 0.05))
            if ax is not row[0]:
                ax.set_yticklabels([])
    if len(summaries) == 1 and (title or next(iter(summaries))):
        fig.suptitle(title or next(iter(summaries)))
    fig.tight_layout()
    if path is None:
        return fig
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
