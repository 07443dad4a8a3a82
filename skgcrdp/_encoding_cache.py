"""Content-addressed stores of encoder outputs: one in this process, or one folder per location.

An entry's key is a SHA-256 of the encoder's identity (model, weights
package, every preprocessing parameter) and of the item's content (a file's
bytes, a picture's pixels, a text), so a changed file gets new features and a
path alone never names an entry. Values are float32 rows.

The in-process store lives at module level, not in an estimator parameter:
``clone`` deep-copies parameters, which would give every clone of a search an
empty copy. A folder store is shared by the processes that name the same
location (the workers of ``GridSearchCV(n_jobs=...)``); each entry is one file
holding a SHA-256 of its payload, written under a temporary name and renamed,
so a reader sees a whole entry or none, and a damaged one is recomputed.
"""

import hashlib
import os
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_MAX_BYTES", "FOLDER", "item_key", "resolve_store"]

# About 200,000 picture rows (1280 float32) or 700,000 sentence rows.
DEFAULT_MAX_BYTES = 1 << 30
FOLDER = "skgcrdp_encodings"
_DIGEST = hashlib.sha256().digest_size
_SUFFIX = ".f32"


def item_key(identity, content):
    """The entry key of one item: a hex SHA-256 of the encoder's identity and the item's bytes."""
    digest = hashlib.sha256(identity.encode())
    digest.update(b"\0")
    digest.update(content)
    return digest.hexdigest()


class _Stats:
    def __init__(self):
        self.hits = self.misses = self.damaged = 0

    def as_dict(self):
        return {"hits": self.hits, "misses": self.misses, "damaged": self.damaged}


class MemoryStore:
    """Rows kept in this process, least recently used first out beyond the limits."""

    def __init__(self, max_bytes=DEFAULT_MAX_BYTES, max_entries=None):
        self._rows, self._bytes, self._lock = OrderedDict(), 0, threading.Lock()
        self.max_bytes, self.max_entries, self.stats = max_bytes, max_entries, _Stats()

    def get(self, key):
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                return None
            self._rows.move_to_end(key)
            self.stats.hits += 1
            return row

    def put(self, key, row):
        row = np.array(row, dtype=np.float32)
        row.flags.writeable = False
        with self._lock:
            old = self._rows.pop(key, None)
            self._bytes += row.nbytes - (0 if old is None else old.nbytes)
            self._rows[key] = row
            self._trim()

    def limit(self, max_bytes, max_entries):
        with self._lock:
            self.max_bytes, self.max_entries = max_bytes, max_entries
            self._trim()

    def _trim(self):
        while self._rows and (
            (self.max_bytes is not None and self._bytes > self.max_bytes)
            or (self.max_entries is not None and len(self._rows) > self.max_entries)
        ):
            _, row = self._rows.popitem(last=False)
            self._bytes -= row.nbytes

    def clear(self):
        with self._lock:
            self._rows.clear()
            self._bytes, self.stats = 0, _Stats()

    def info(self):
        with self._lock:
            return {"location": None, "entries": len(self._rows), "bytes": self._bytes,
                    "max_bytes": self.max_bytes, "max_entries": self.max_entries,
                    **self.stats.as_dict()}


class FolderStore:
    """Rows kept as checksummed files under ``location/skgcrdp_encodings``."""

    def __init__(self, location):
        self.location = Path(location)
        self.root = self.location / FOLDER
        self.stats = _Stats()
        self._writable = False

    def check_writable(self):
        """Create the folder and write a probe file, or say why that fails, before any work.

        Once it has succeeded in this process, later calls do nothing.
        """
        if self._writable:
            return
        probe = self.root / f".probe-{uuid.uuid4().hex}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
            self._writable = True
        except OSError as error:
            raise ValueError(
                f"memory={os.fspath(self.location)!r} is not a writable folder for cached "
                f"encodings ({type(error).__name__}: {error}). Give a folder you can write to, "
                "or memory=None to keep the encodings in this process."
            ) from None

    def _path(self, key):
        return self.root / key[:2] / (key + _SUFFIX)

    def get(self, key):
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        payload = data[_DIGEST:]
        if (len(data) <= _DIGEST or len(payload) % 4
                or hashlib.sha256(payload).digest() != data[:_DIGEST]):
            # Truncated or overwritten: drop it, and the caller encodes the item again.
            self.stats.damaged += 1
            path.unlink(missing_ok=True)
            return None
        self.stats.hits += 1
        return np.frombuffer(payload, dtype=np.float32)

    def put(self, key, row):
        payload = np.ascontiguousarray(row, dtype=np.float32).tobytes()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Another process may write the same entry at the same time: each
        # writes its own temporary file, and the rename is atomic.
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        temporary.write_bytes(hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, path)

    def _entries(self):
        return list(self.root.glob(f"*/*{_SUFFIX}")) if self.root.is_dir() else []

    def limit(self, max_bytes, max_entries):
        """Delete the least recently written entries beyond the limits."""
        entries = []
        for path in self._entries():
            try:
                status = path.stat()
            except OSError:
                continue
            entries.append((status.st_mtime, status.st_size, path))
        entries.sort(reverse=True)
        total = 0
        for count, (_, size, path) in enumerate(entries, start=1):
            total += size
            if ((max_bytes is not None and total > max_bytes)
                    or (max_entries is not None and count > max_entries)):
                path.unlink(missing_ok=True)

    def clear(self):
        for path in self._entries():
            path.unlink(missing_ok=True)
        self.stats = _Stats()

    def info(self):
        sizes = []
        for path in self._entries():
            try:   # another process may remove an entry meanwhile
                sizes.append(path.stat().st_size)
            except OSError:
                continue
        return {"location": os.fspath(self.location), "entries": len(sizes), "bytes": sum(sizes),
                "max_bytes": None, "max_entries": None, **self.stats.as_dict()}


class NoStore:
    """No caching: every call encodes every item."""

    def __init__(self):
        self.stats = _Stats()

    def get(self, key):
        return None

    def put(self, key, row):
        pass

    def limit(self, max_bytes, max_entries):
        pass

    def clear(self):
        self.stats = _Stats()

    def info(self):
        return {"location": None, "entries": 0, "bytes": 0, "max_bytes": None, "max_entries": None,
                **self.stats.as_dict()}


_MEMORY = MemoryStore()
_FOLDERS = {}
_FOLDERS_LOCK = threading.Lock()


def resolve_store(memory):
    """The store that an encoder's ``memory`` parameter names.

    None or True: this process's store. False, or a ``joblib.Memory`` without a
    location: none. A str, path or ``joblib.Memory``: the folder store at that
    location, one object per location within a process.
    """
    if memory is None or memory is True:
        return _MEMORY
    if memory is False:
        return NoStore()
    location = getattr(memory, "location", memory)
    if location is None:
        return NoStore()
    location = os.path.abspath(os.fspath(location))
    with _FOLDERS_LOCK:
        return _FOLDERS.setdefault(location, FolderStore(location))
