"""A dependency-free progress bar over the runs of a benchmark."""

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Shows ``done/total``, the current run and the elapsed time.

    On a terminal the bar redraws one line; elsewhere (CI logs, pipes) it
    prints one line per run so the log stays readable.
    """

    def __init__(self, total, stream=None, width=24, enabled=True):
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.enabled = enabled
        self.done = 0
        self.start = time.perf_counter()
        self.interactive = getattr(self.stream, "isatty", lambda: False)()

    def update(self, label):
        """Count one more finished run, described by ``label``."""
        self.done += 1
        if not self.enabled:
            return
        filled = round(self.width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
            f"{elapsed:5.0f}s  {label}"
        )
        if self.interactive:
            end = "\n" if self.done == self.total else ""
            self.stream.write(f"\r{line:<100}{end}")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
