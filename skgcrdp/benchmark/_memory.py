"""Peak memory of a block of code, without a dependency on psutil."""

import ctypes
import ctypes.util
import gc
import os
import threading

import torch

__all__ = ["PeakMemory", "release_free_memory", "resident_bytes"]

_STATM = "/proc/self/statm"


def resident_bytes():
    """Resident memory of this process in bytes; None where /proc is absent."""
    try:
        with open(_STATM) as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _load_libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _load_libc()


def release_free_memory():
    """Collect garbage and hand free heap memory back to the system.

    Without this, memory freed by an earlier block is reused by the next one
    without growing the resident set, and the next block looks free of cost.
    ``malloc_trim`` is glibc's; elsewhere only the garbage is collected.
    """
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


class PeakMemory:
    """Peak growth of resident memory (and of CUDA memory) inside a ``with`` block.

    Free memory is handed back to the system on entry (see
    :func:`release_free_memory`); then a thread samples the resident set size
    every ``interval`` seconds, and the peak over the block minus the size at
    entry is ``peak_mib``: what the block added to the process at its
    largest. Peaks shorter than the interval can be missed.
    ``peak_mib`` is NaN where the resident size cannot be read (no /proc).
    On CUDA, ``peak_gpu_mib`` is torch's peak allocation in the block.
    """

    def __init__(self, device="cpu", interval=0.005):
        self.device = device
        self.interval = interval
        self.peak_mib = float("nan")
        self.peak_gpu_mib = float("nan")

    def _sample(self):
        while not self._stop.wait(self.interval):
            current = resident_bytes()
            if current is not None:
                self._peak = max(self._peak, current)

    def __enter__(self):
        release_free_memory()
        self._start = resident_bytes()
        self._peak = self._start or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        if self._start is not None:
            self._thread.start()
        if str(self.device).startswith("cuda"):
            torch.cuda.reset_peak_memory_stats(self.device)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._start is not None:
            self._thread.join()
            end = resident_bytes()
            self._peak = max(self._peak, end if end is not None else 0)
            self.peak_mib = (self._peak - self._start) / 2**20
        if str(self.device).startswith("cuda"):
            self.peak_gpu_mib = torch.cuda.max_memory_allocated(self.device) / 2**20
        return False
