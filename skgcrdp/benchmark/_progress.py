"""Progress of a benchmark: a line per data set and K, with the time left."""

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Prints, as each data set and K is done, the elapsed time and an estimate of what is left.

    The estimate extrapolates from the work done so far, the work of a fit
    growing linearly with its training pairs and their width (see
    ``episode_work``); one ``Progress`` shared by the runs of several data
    sets estimates over all of them.

    Parameters
    ----------
    total : float
        Work of the whole run.
    stream : file, default=None
        Where lines go; None is ``sys.stderr``.
    enabled : bool, default=True
        False prints nothing.
    """

    def __init__(self, total, stream=None, enabled=True):
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.done = 0
        self.start = time.perf_counter()

    def advance(self, work):
        """Count ``work`` as done."""
        self.done += work

    def report(self, label):
        """Print ``label`` with the elapsed time and the estimate of the time left."""
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        share = min(1.0, self.done / self.total) if self.total else 1.0
        if share >= 1.0 - 1e-9:  # the last advance may fall short of the total by rounding
            left = "done"
        else:
            left = f"about {elapsed * (1 - share) / max(share, 1e-9):.0f} s left"
        self.stream.write(f"{label} in {elapsed:.0f} s, {share:.0%} of the work; {left}\n")
        self.stream.flush()
