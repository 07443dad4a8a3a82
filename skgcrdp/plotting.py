"""Pictures of what a search returns: a query and its top-k items, hits marked by class.

Needs matplotlib (``pip install -e ".[plot]"``), as the benchmark's plot does; there a
missing matplotlib skips the plot with a hint, here it is an error, since the picture is the
whole point of the call.
"""

import textwrap

import numpy as np

__all__ = ["plot_retrieval"]

HIT, MISS = "#1a9850", "#d73027"


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('plot_retrieval needs matplotlib: pip install -e ".[plot]"') from None
    return plt


def _show(ax, item, caption_width):
    """A picture (an RGB array) or a text (a str) in one cell."""
    ax.set_xticks([])
    ax.set_yticks([])
    if isinstance(item, str):
        ax.text(0.5, 0.5, textwrap.fill(item, caption_width), ha="center", va="center",
                fontsize=8, wrap=True, transform=ax.transAxes)
        ax.set_facecolor("#f7f7f7")
    else:
        ax.imshow(np.asarray(item), interpolation="nearest")


def plot_retrieval(query, results, *, query_label=None, result_labels=None, label_names=None,
                   axes=None, title=None, caption_width=18):
    """Draw a query and the gallery items it retrieved, each framed by whether its class matches.

    Parameters
    ----------
    query : str or array-like of shape (height, width, 3)
        The query as a reader sees it: the typed text, or the picture.
    results : sequence of str or array-like of shape (k, height, width, 3)
        The retrieved gallery items, best first: captions or pictures.
    query_label : object, default=None
        The query's class. With ``result_labels``, a result of the same class
        is framed green (a hit) and any other red.
    result_labels : array-like of shape (k,), default=None
        The class of each result, written under it.
    label_names : sequence of str, default=None
        Names of the classes when the labels are indices into it.
    axes : sequence of k + 1 matplotlib Axes, default=None
        Where to draw (the query first); None makes a one-row figure.
    title : str, default=None
        Written above the query's cell (e.g. the method's name).
    caption_width : int, default=18
        Characters per line of a text in a cell.

    Returns
    -------
    axes : list of matplotlib Axes
        The query's, then the results'.

    Examples
    --------
    >>> import numpy as np
    >>> from skgcrdp.plotting import plot_retrieval
    >>> pictures = np.ones((3, 8, 8, 3))
    >>> axes = plot_retrieval("a red bus", pictures, query_label=0, result_labels=[0, 1, 0],
    ...                       label_names=["bus", "dog"])
    >>> [ax.get_xlabel() for ax in axes]
    ['query: bus', '1. bus', '2. dog', '3. bus']
    """
    plt = _pyplot()
    results = list(results) if isinstance(results, (list, tuple)) or (
        np.ndim(results) != 4) else list(np.asarray(results))
    if axes is None:
        _, axes = plt.subplots(1, len(results) + 1, figsize=(1.3 * (len(results) + 1), 1.9))
    axes = list(np.ravel(axes))
    if len(axes) != len(results) + 1:
        raise ValueError(f"axes holds {len(axes)} Axes; the query and {len(results)} results "
                         f"need {len(results) + 1}.")

    def name(label):
        return str(label_names[label]) if label_names is not None else str(label)

    _show(axes[0], query, caption_width)
    axes[0].set_xlabel("query" if query_label is None else f"query: {name(query_label)}",
                       fontsize=8)
    if title:
        axes[0].set_title(title, fontsize=9, loc="left")
    for rank, (ax, item) in enumerate(zip(axes[1:], results), start=1):
        _show(ax, item, caption_width)
        label = None if result_labels is None else list(result_labels)[rank - 1]
        ax.set_xlabel(f"{rank}." if label is None else f"{rank}. {name(label)}", fontsize=7)
        if label is not None and query_label is not None:
            for spine in ax.spines.values():
                spine.set_edgecolor(HIT if label == query_label else MISS)
                spine.set_linewidth(3)
    return axes
