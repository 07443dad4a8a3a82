"""Tables and plot of a benchmark run."""

import numpy as np

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
    columns = [c for c in COLUMNS if c[0] in summary.columns]
    header = ["K", "method", *(c[1] for c in columns)]
    rows = [
        [k, method, *(_format(summary.loc[(k, method), c[0]], c[2]) for c in columns)]
        for k, method in summary.index
    ]
    return header, rows


def format_text(summary):
    """Fixed-width table of a summary, for the terminal."""
    header, rows = _rows(summary)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(widths[i]) if i < 2 else str(cell).rjust(widths[i])
                       for i, cell in enumerate(row)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_markdown(summary):
    """Markdown table of a summary; the best mAP of each K in bold."""
    header, rows = _rows(summary)
    best = summary.groupby(level="K", sort=False)["mean"].transform("max")
    mean_col = header.index("mAP (mean)")
    for row, (key, value) in zip(rows, summary["mean"].items()):
        if value == best[key]:
            row[mean_col] = f"**{row[mean_col]}**"
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


KIND_COLOURS = {"GCRDP": "tab:red", "ablation": "tab:orange", "baseline": "tab:blue",
                "chance": "tab:gray"}


def plot_summary(summary, path, title=None):
    """One panel per K: mean unseen-class mAP per method, with the std over episodes.

    Returns the path, or None (after printing a hint) without matplotlib.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(PLOT_HINT)
        return None
    ks = list(dict.fromkeys(summary.index.get_level_values("K")))
    n_methods = len(summary.loc[ks[0]])
    fig, axes = plt.subplots(1, len(ks), figsize=(4.5 * len(ks), 0.45 * n_methods + 1.4),
                             sharey=True, squeeze=False)
    for ax, k in zip(axes[0], ks):
        part = summary.loc[k].iloc[::-1]
        colours = [KIND_COLOURS.get(kind, "tab:blue") for kind in part["kind"]]
        ax.barh(part.index, part["mean"], xerr=part["std"], color=colours)
        ax.set_title("all pairs per seen class" if k == "all" else f"K = {k} pairs per seen class")
        ax.set_xlabel("unseen-class mAP@all")
        low = np.nanmin(part["mean"] - part["std"])
        ax.set_xlim(left=max(0.0, low - 0.05))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
