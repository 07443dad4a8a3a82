"""Safe model files: save and load fitted estimators without unpickling anything.

A pickle (or joblib) file runs whatever code it holds when it is loaded, so a
model file from someone else is an open door. :func:`save` writes a zip file
that loading can check before it builds anything:

``manifest.json``
    Format name and version, library versions, and the SHA-256 of every other
    member; the weights' names and shapes.
``model.skops``
    The estimator or pipeline with its parameters and fitted attributes,
    written by ``skops.io``, whose loader builds only the types it is told to
    trust and never unpickles. The trained networks are left out of it.
``weights/<name>.safetensors``
    The weights of each trained network, in safetensors (tensors only).

:func:`load` refuses a file that is not one of these, a newer major format
version, a member whose checksum does not match, a type nobody trusted (it
names it), and weights whose names or shapes do not fit the network the
saved parameters describe. Networks are rebuilt from the saved parameters
and loaded on the CPU, or on ``device``; a model saved on a GPU loads on a
CPU-only machine. Search indexes are written as their gallery rows and
rebuilt from them (no faiss bytes are ever read).

What has a trained network says so through a small protocol
(``__skgcrdp_weights__`` and ``__skgcrdp_set_weights__``, as scikit-learn's
tools read ``__sklearn_tags__``), so this module special-cases no estimator.

A loaded model transforms, retrieves and scores exactly as the saved one;
its optimiser state and training history are not kept, so ``fit`` trains
it from scratch (use ``checkpoint_dir`` to resume training).
"""

import errno
import hashlib
import importlib
import io
import json
import os
import re
import socket
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._search import count_rest
from ._version import __version__
from .exceptions import ModelFileError
from .utils import resolve_device

__all__ = ["ModelFileError", "load", "save"]

FORMAT = "skgcrdp-model"
# 1.1: search indexes are stored as their gallery rows (ExactIndex, FaissIndex).
FORMAT_VERSION = (1, 1)
# The oldest format read: 1.0 held the names of the never-published 0.1.
FIRST_READ_VERSION = (1, 1)
EXTRA = 'pip install -e ".[safe]"'
MANIFEST = "manifest.json"
MODEL = "model.skops"

# The library's own types: trusted by default, as scikit-learn's are by skops.
OWN_TYPES = [
    "skgcrdp.extraction.GMMFeatureExtractor",
    "skgcrdp.alignment.RelativeDistanceAligner",
    "skgcrdp.retrieval.CrossModalRetriever",
    "skgcrdp.preprocessing.ModalityTransformer",
    "skgcrdp.baselines.CrossDecompositionEmbedder",
    "skgcrdp.baselines.DSCMREmbedder",
    "skgcrdp.baselines.RandomProjectionEmbedder",
    "skgcrdp.profiles.RelativeProfileEmbedder",
    "skgcrdp.union.SharedSpaceUnion",
    "skgcrdp.encoders.ImageEncoder",
    "skgcrdp.encoders.SentenceEncoder",
    "skgcrdp._search._exact.ExactIndex",
    "skgcrdp._search._faiss.FaissIndex",
]


def _require():
    try:
        import safetensors  # noqa: F401  (only: is it installed?)
        import skops.io  # noqa: F401
    except ImportError:
        raise ImportError(f"Safe model files need skops and safetensors: {EXTRA}") from None


def _objects(obj, seen=None):
    """Every estimator reachable from ``obj``: pipeline steps, nested transformers."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if hasattr(obj, "get_params"):
        yield obj
        values = list(vars(obj).values())
    elif isinstance(obj, dict):
        values = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        values = list(obj)
    else:
        return
    for value in values:
        if hasattr(value, "get_params") or isinstance(value, (dict, list, tuple)):
            yield from _objects(value, seen)


@contextmanager
def _networks_detached(estimator):
    """Swap each trained network for the key of its weights while the rest is written.

    Yields ``[(key, weights, device)]``; the networks are put back afterwards.
    """
    detached, networks = [], []
    try:
        for obj in _objects(estimator):
            if hasattr(obj, "__skgcrdp_weights__") and hasattr(obj, "net_"):
                key = f"net{len(networks)}"
                weights, device = obj.__skgcrdp_weights__()
                networks.append((key, weights, device, type(obj)))
                detached.append((obj, obj.net_))
                obj.net_ = key
        yield networks
    finally:
        for obj, net in detached:
            obj.net_ = net


def save(estimator, path):
    """Save a fitted estimator or pipeline to a safe model file.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        skgcrdp stages, scikit-learn transformers, or a Pipeline of them.
    path : str or path-like
        Where to write; ``.skgcrdp`` is the customary suffix.

    Returns
    -------
    path : pathlib.Path

    See Also
    --------
    load : The other way.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import skgcrdp
    >>> from skgcrdp import make_gcrdp_pipeline
    >>> from skgcrdp.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_classes=4, random_state=0)
    >>> pipe = make_gcrdp_pipeline(20, random_state=0, extract__max_epochs=2,
    ...                            align__max_epochs=1).fit(X, y)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "gcrdp.skgcrdp"
    >>> loaded = skgcrdp.load(skgcrdp.save(pipe, path))
    >>> bool(loaded.score(X, y) == pipe.score(X, y))
    True
    """
    _require()
    import skops.io as sio
    from safetensors.numpy import save as tensors_to_bytes

    check_is_fitted(estimator)
    path = Path(path)
    members, networks = {}, {}
    with _networks_detached(estimator) as detached:
        for key, state, device, cls in detached:
            members[f"weights/{key}.safetensors"] = tensors_to_bytes(state)
            networks[key] = {
                "class": f"{cls.__module__}.{cls.__name__}",
                "device": device,
                "shapes": {k: list(v.shape) for k, v in state.items()},
            }
        members[MODEL] = sio.dumps(estimator)
    _check_loadable(estimator, sio.get_untrusted_types(data=members[MODEL]))
    manifest = {
        "format": FORMAT,
        "format_version": list(FORMAT_VERSION),
        "skgcrdp_version": _library_version(),
        "versions": _versions(),
        "networks": networks,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    _write_atomically(path, manifest, members)
    return path


# A save writes ".<target>.<host>-<pid>.<random>.skgcrdp-partial" beside the
# target and renames it over the target once complete. A save that was
# killed leaves it behind; the next save into the folder removes it when its
# writer is gone (same host, dead pid) or when it is older than STALE_AFTER.
PARTIAL = re.compile(r"\.(?P<target>.+)\.(?P<host>[A-Za-z0-9-]{1,40})-(?P<pid>\d+)\.[a-z0-9_]+"
                     r"\.skgcrdp-partial")
STALE_AFTER = 3600.0


def _host():
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _write_atomically(path, manifest, members):
    """Write the model file to a temporary beside ``path``, fsync it and rename it over ``path``.

    Readers see the old file or the new one, never half of one; a failure
    that this process sees removes the temporary, and errors name ``path``.
    """
    folder = path.parent
    _remove_stale_partials(folder)
    partial = None
    try:
        # The target's name is cut so that the temporary's stays within NAME_MAX.
        handle, partial = tempfile.mkstemp(
            prefix=f".{path.name[:100]}.{_host()}-{os.getpid()}.", suffix=".skgcrdp-partial",
            dir=folder)
        with os.fdopen(handle, "wb") as stream:
            with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
                for name, data in members.items():
                    archive.writestr(name, data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
        partial = None
        _fsync_folder(folder)
    except OSError as exc:
        if exc.errno is None:
            raise OSError(f"Could not save the model file {path}: {exc}") from exc
        raise OSError(exc.errno, f"Could not save the model file ({exc.strerror or exc})",
                      str(path)) from exc
    finally:
        if partial is not None and os.path.exists(partial):
            os.remove(partial)


def _fsync_folder(folder):
    """Make the rename durable: fsync the folder that holds the new name."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:   # a platform that cannot open folders (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:   # some file systems refuse fsync on a folder; the data itself is synced
        pass
    finally:
        os.close(fd)


def _remove_stale_partials(folder):
    """Remove the temporaries of saves into ``folder`` that were killed before they finished."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return   # the save itself reports a missing folder, naming the target
    now, host = time.time(), _host()
    for entry in entries:
        match = PARTIAL.fullmatch(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            writer_gone = match["host"] == host and not _alive(int(match["pid"]))
            if writer_gone or age > STALE_AFTER:
                os.remove(entry.path)
        except OSError:
            pass   # removed meanwhile by another save, or not ours to remove


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True   # someone else's process, or a number no process has: keep it until it is old
    return True


def _check_loadable(estimator, type_names):
    """Refuse, before anything is written, what :func:`load` could never build again.

    A type or function is built on load by importing its module and looking
    its name up there: that fails for what lives in ``__main__`` (a script
    or notebook) and for lambdas and functions or classes defined inside
    functions.
    """
    for name in sorted(set(type_names)):
        module, _, attribute = name.rpartition(".")
        reason = None
        if module == "__main__" or module.startswith("__main__."):
            reason = "it is defined in __main__ (a script or a notebook), which load cannot import"
        elif "<" in name:
            reason = "a lambda, or a function or class defined inside a function, has no importable name"
        else:
            try:
                target = importlib.import_module(module)
                for part in attribute.split("."):
                    target = getattr(target, part)
            except (ImportError, AttributeError) as exc:
                reason = f"it cannot be imported by that name ({exc})"
        if reason is not None:
            raise ValueError(
                f"{_owner_of(estimator, name)} cannot be saved to a model file: {reason}. Define "
                "it at the top level of an importable module (and pass its full name to load's "
                "trusted=), or use pickle for a file only you will load. Nothing was written."
            )


def _owner_of(estimator, type_name):
    """Words that find the object of ``type_name`` in ``estimator``, for an error message."""
    for obj in _objects(estimator):
        for key, value in vars(obj).items():
            for candidate in (value, type(value)):
                module = getattr(candidate, "__module__", "")
                names = {getattr(candidate, "__qualname__", ""), getattr(candidate, "__name__", "")}
                if type_name in {f"{module}.{name}" for name in names}:
                    return f"{type_name} (in {type(obj).__name__}.{key})"
    return type_name


def _library_version():
    return __version__


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("scikit-learn", "torch", "skorch", "skops", "safetensors", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def load(path, *, trusted=None, device=None):
    """Load a model file written by :func:`save`, executing nothing from it.

    Meant for files from anyone: nothing in the file is run, and what a
    load may allocate is bounded by the file (see Notes).

    Parameters
    ----------
    path : str or path-like
    trusted : list of str, default=None
        Types to build beyond scikit-learn's, skops's and skgcrdp's own, by
        their full names (e.g. ``["mypackage.MyTransformer"]``): only for a
        file you trust, as building a type runs its code.
    device : str, default=None
        Torch device of the trained networks; None keeps the saved one
        where it exists and uses the CPU otherwise.

    Returns
    -------
    estimator : the fitted estimator or Pipeline that was saved

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist or is not a file.
    ModelFileError
        Anything else that keeps the file from loading: it is not a skgcrdp
        model file, comes from another major format version, is truncated,
        altered or malformed, would expand beyond the bounds below, holds
        an untrusted type, or its weights do not fit the saved parameters.
        The cause, where there is one, is chained.

    Notes
    -----
    Bounds: every member of the file is checked against its declared size
    before it is read and read with that limit; a member may expand to at
    most ``max(1 MiB, 100 x its compressed size)`` and all members
    together to at most ``max(16 MiB, 100 x the file's size)``, and the
    same holds inside the skops part. Every network's shapes, as its
    saved parameters describe them, are compared with the manifest's and
    the weights' before any network is built, so no network larger than
    the weights in the file is allocated. Search indexes are rebuilt from
    the gallery rows in the file; no faiss bytes are ever read.
    """
    _require()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "No such model file", str(path))
    try:
        return _load(path, trusted, device)
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"{path} could not be loaded ({type(exc).__name__}: {exc}); nothing from it is used."
        ) from exc


def _load(path, trusted, device):
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    members, manifest = _read_checked(path)
    _check_schema(members[MODEL], path)
    trusted = OWN_TYPES + list(trusted or [])
    try:
        found = sio.get_untrusted_types(data=members[MODEL])
    except Exception as exc:
        raise ModelFileError(f"{path}: {MODEL} is not a skops payload ({exc}); nothing was "
                             "built from it.") from exc
    untrusted = sorted(set(found) - set(trusted))
    if untrusted:
        raise ModelFileError(
            f"{path} holds types that are not trusted: [{count_rest(map(repr, untrusted))}]. "
            "Nothing was built. If you trust the file and these types, pass "
            "load(..., trusted=[...]) with their names."
        )
    try:
        estimator = sio.loads(members[MODEL], trusted=trusted)
    except UntrustedTypesFoundException as exc:  # the audit above should have caught it
        raise ModelFileError(f"{path} holds types that are not trusted: {exc}") from exc
    _check_restored(estimator, path)
    _restore_runtime_state(estimator, members, manifest, device, path)
    return estimator


# Estimators whose steps are a list of tuples: the attribute and the tuple's length.
_STEP_LISTS = {
    ("sklearn.pipeline", "Pipeline"): ("steps", 2),
    ("sklearn.pipeline", "FeatureUnion"): ("transformer_list", 2),
    ("sklearn.compose._column_transformer", "ColumnTransformer"): ("transformers", 3),
}
#: The most steps a pipeline (or union, or column transformer) read from a file may have.
MAX_STEPS = 1000


def _check_schema(payload, path):
    """Refuse step lists that are not lists of (name, estimator) tuples, before skops builds anything.

    skops would build whatever the schema describes (a "step" that is a
    list of 200,000 items costs hundreds of MB) before any estimator could
    look at it; the schema itself tells.
    """
    with zipfile.ZipFile(io.BytesIO(payload)) as inner:
        try:
            schema = json.loads(inner.read("schema.json"))
        except (KeyError, ValueError, RecursionError) as exc:
            raise ModelFileError(f"{path}: {MODEL} has no readable schema ({exc}); nothing was "
                                 "built from it.") from exc
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        pending.extend(node.values())
        step_list = _STEP_LISTS.get((node.get("__module__"), node.get("__class__")))
        if step_list is not None and node.get("__loader__") == "ObjectNode":
            _check_step_list(node, *step_list, path)


def _check_step_list(node, attribute, width, path):
    where = f"{path}: {node['__class__']}.{attribute}"
    content = node.get("content")
    attributes = content.get("content") if isinstance(content, dict) else None
    steps = attributes.get(attribute) if isinstance(attributes, dict) else None
    if not (isinstance(steps, dict) and steps.get("__loader__") == "ListNode"
            and isinstance(steps.get("content"), list)):
        raise ModelFileError(f"{where} is not a list of steps; nothing was built.")
    items = steps["content"]
    if len(items) > MAX_STEPS:
        raise ModelFileError(f"{where} has {len(items):,} steps; at most {MAX_STEPS} are read. "
                             "Nothing was built.")
    for i, item in enumerate(items):
        parts = item.get("content") if isinstance(item, dict) else None
        if not (isinstance(parts, list) and item.get("__loader__") in {"TupleNode", "ListNode"}
                and len(parts) == width and isinstance(parts[0], dict)
                and parts[0].get("__class__") == "str" and isinstance(parts[1], dict)):
            raise ModelFileError(f"{where}[{i}] is not a (name, estimator) tuple; nothing was built.")
        estimator = parts[1]
        if estimator.get("__loader__") in {"ListNode", "TupleNode", "DictNode", "SetNode"} or (
                estimator.get("__loader__") == "JsonNode"
                and estimator.get("content") not in ('"passthrough"', '"drop"', "null")):
            raise ModelFileError(f"{where}[{i}] holds a {estimator.get('__class__')!s:.40} where an "
                                 "estimator belongs; nothing was built.")


def _check_restored(estimator, path):
    """Check every restored estimator's parameters with its class's own constraints.

    skgcrdp's search state (the retriever and its indexes) was checked as it
    was restored; here every object that declares ``_parameter_constraints``
    (skgcrdp's and scikit-learn's estimators, pipelines) has its parameters
    validated as ``fit`` would, and a pipeline holds its parameters and
    nothing else.
    """
    from sklearn.pipeline import Pipeline

    for obj in _objects(estimator):
        try:
            if isinstance(obj, Pipeline):
                _check_pipeline(obj)
            if hasattr(obj, "_parameter_constraints") and hasattr(obj, "_validate_params"):
                obj._validate_params()
        except ModelFileError:
            raise
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: {exc}; nothing from it is used.") from exc


def _check_pipeline(pipe):
    from ._search import check_state

    check_state(pipe, vars(pipe), set(pipe._get_param_names()) | {"_sklearn_version"})
    steps = pipe.steps
    if not (isinstance(steps, list) and 1 <= len(steps) <= MAX_STEPS):
        raise ValueError(f"Pipeline.steps must be a list of 1 to {MAX_STEPS} (name, estimator) tuples.")
    names = []
    for i, step in enumerate(steps):
        if not (isinstance(step, (tuple, list)) and len(step) == 2 and isinstance(step[0], str)):
            raise ValueError(f"Pipeline.steps[{i}] is not a (name, estimator) tuple.")
        name, step_estimator = step
        if "__" in name or name in names:
            raise ValueError(f"Pipeline.steps[{i}] has the name {name!r:.40}, which is repeated or "
                             "holds '__'.")
        names.append(name)
        if not (step_estimator in (None, "passthrough") or hasattr(step_estimator, "fit")):
            raise ValueError(f"Pipeline.steps[{i}] ({name!r:.40}) holds a "
                             f"{type(step_estimator).__name__} where an estimator belongs.")


# What a load may read: each member at most this many times its compressed
# size (or MIN_MEMBER), all of them at most this many times the file (or
# MIN_TOTAL). Real model files expand about 1.1x (weights, embeddings).
MAX_EXPANSION = 100
MIN_MEMBER = 1 << 20
MIN_TOTAL = 16 << 20
MAX_MEMBERS = 100_000
# The model file itself holds the manifest, the skops part and one member per
# trained network: a file with more is refused before its directory is parsed.
MAX_FILE_MEMBERS = 1000
_DEVICE = re.compile(r"(cpu|cuda|mps)(:\d+)?")


def _declared_members(path):
    """The member count a zip file's end record declares, read without parsing its directory.

    None when no end record is found (not a zip file, or a damaged one):
    zipfile then decides.
    """
    with open(path, "rb") as stream:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(max(0, size - (22 + 0xFFFF)))   # the end record, and a comment at most
        tail = stream.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        count = int.from_bytes(tail[at + 10 : at + 12], "little")
        if count != 0xFFFF:
            return count
        # More members than a plain end record counts: the zip64 record, found
        # through its locator just before the end record, holds the count.
        locator = tail[max(0, at - 20) : at]
        if len(locator) < 20 or not locator.startswith(b"PK\x06\x07"):
            return None
        stream.seek(int.from_bytes(locator[8:16], "little"))
        record = stream.read(56)
    if len(record) < 40 or not record.startswith(b"PK\x06\x06"):
        return None
    return int.from_bytes(record[32:40], "little")


def _check_declared(archive, where, budget, max_members=MAX_MEMBERS):
    """Refuse an archive whose members declare more than a load reads, before reading any.

    zipfile never hands back more of a member than its declared size, so
    bounding the declared sizes bounds what is read.
    """
    infos = archive.infolist()
    if len(infos) > max_members:
        raise ModelFileError(f"{where} has {len(infos):,} members; at most {max_members:,} are read.")
    total = sum(info.file_size for info in infos)
    if total > budget:
        raise ModelFileError(
            f"{where} declares {total} bytes uncompressed, more than the {budget} a load reads "
            f"(at most {MAX_EXPANSION}x the file); nothing was read."
        )
    for info in infos:
        if info.file_size > max(MIN_MEMBER, MAX_EXPANSION * info.compress_size):
            raise ModelFileError(
                f"{where}: {info.filename} declares {info.file_size} bytes from "
                f"{info.compress_size} compressed, more than {MAX_EXPANSION}x; nothing was read."
            )
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise ModelFileError(f"{where} holds a member twice: the file was altered.")
    return infos


def _read_checked(path):
    """The members of a model file and its manifest, bounded and checked; nothing is built."""
    size = path.stat().st_size
    declared = _declared_members(path)
    if declared is not None and declared > MAX_FILE_MEMBERS:
        raise ModelFileError(f"{path} declares {declared:,} members; a model file has at most "
                             f"{MAX_FILE_MEMBERS}. Nothing was read.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(
            f"{path} is not a skgcrdp model file ({exc}); a pickle or joblib file is "
            "never opened by skgcrdp.load."
        ) from exc
    budget = max(MIN_TOTAL, MAX_EXPANSION * size)
    with archive:
        infos = _check_declared(archive, path, budget, MAX_FILE_MEMBERS)
        names = {info.filename for info in infos}
        if MANIFEST not in names:
            raise ModelFileError(f"{path} has no {MANIFEST}: it is not a skgcrdp model file.")
        try:
            manifest = json.loads(archive.read(MANIFEST))
        except (ValueError, RecursionError) as exc:
            raise ModelFileError(f"{path}: its {MANIFEST} is not valid JSON ({exc}).") from exc
        _check_manifest(manifest, path)
        # The members' names first: a file with stray members is refused
        # before any of them is read.
        _check_member_names(manifest, names - {MANIFEST}, path)
        members = {info.filename: archive.read(info) for info in infos
                   if info.filename != MANIFEST}
    for name, digest in manifest["sha256"].items():
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise ModelFileError(f"{path}: the checksum of {name} does not match: the file is "
                                 "damaged or was altered.")
    try:
        inner = zipfile.ZipFile(io.BytesIO(members[MODEL]))
    except zipfile.BadZipFile as exc:
        raise ModelFileError(f"{path}: {MODEL} is not a skops payload ({exc}); nothing was "
                             "built from it.") from exc
    with inner:
        # The skops part is a zip file too: its members obey the same bounds.
        _check_declared(inner, f"{path}: {MODEL}", budget)
    return members, manifest


def _check_member_names(manifest, names, path):
    """The members are those the manifest lists, and those are a model file's own."""
    expected = manifest["sha256"]
    if set(expected) != names:
        raise ModelFileError(
            f"{path} has members [{count_rest(map(repr, sorted(names)))}] but its manifest lists "
            f"[{count_rest(map(repr, sorted(expected)))}]: the file was altered."
        )
    weights = {f"weights/{key}.safetensors" for key in manifest["networks"]}
    unexpected = sorted(names - weights - {MODEL})
    missing = sorted(weights - names)
    if missing:
        raise ModelFileError(f"{path}: its manifest lists weights [{count_rest(map(repr, missing))}] "
                             "that are not in the file: the file was altered.")
    if MODEL not in names or unexpected:
        listed = count_rest(map(repr, unexpected or [MODEL + " missing"]))
        raise ModelFileError(f"{path}: members [{listed}] do not belong in a skgcrdp model file.")


def _check_manifest(manifest, path):
    """The manifest's structure, format version and devices, before anything relies on them."""
    def refuse(what):
        raise ModelFileError(f"{path}: its {MANIFEST} is malformed: {what}.")

    if not isinstance(manifest, dict):
        refuse("not a JSON object")
    if manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a skgcrdp model file (format {manifest.get('format')!r}).")
    version = manifest.get("format_version")
    if not (isinstance(version, list) and len(version) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in version)):
        refuse(f"format_version {version!r} is not two whole numbers >= 0")
    if version[0] != FORMAT_VERSION[0]:
        newer = version[0] > FORMAT_VERSION[0]
        raise ModelFileError(
            f"{path} was written in format version {version} by skgcrdp "
            f"{manifest.get('skgcrdp_version')}; this skgcrdp ({_library_version()}) reads format "
            f"{FORMAT_VERSION[0]}.x." + (" Upgrade skgcrdp to load it." if newer else "")
        )
    if tuple(version) < FIRST_READ_VERSION:
        # Format 1.0 held the names of 0.1, which was never published; nothing
        # here reads them, and the file would fail later on a name it does not know.
        raise ModelFileError(
            f"{path} was written in format version {version} by skgcrdp "
            f"{manifest.get('skgcrdp_version')}, whose names this skgcrdp does not read. "
            "Fit and save the model again."
        )
    digests = manifest.get("sha256")
    if not (isinstance(digests, dict) and all(
            isinstance(k, str) and isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v)
            for k, v in digests.items())):
        refuse("sha256 is not a map of member names to SHA-256 digests")
    networks = manifest.get("networks")
    if not isinstance(networks, dict):
        refuse("networks is not a map")
    for key, info in networks.items():
        if not (isinstance(key, str) and re.fullmatch(r"net\d+", key) and isinstance(info, dict)):
            refuse(f"network {key!r} is not described as saved networks are")
        device = info.get("device")
        if not (isinstance(device, str) and _DEVICE.fullmatch(device)):
            refuse(f"network {key!r} names the device {device!r} (cpu, cuda[:N] or mps)")
        shapes = info.get("shapes")
        if not (isinstance(shapes, dict) and all(
                isinstance(name, str) and isinstance(shape, list)
                and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
                for name, shape in shapes.items())):
            refuse(f"network {key!r} has shapes that are not lists of sizes")


def _restore_runtime_state(estimator, members, manifest, device, path):
    from safetensors.numpy import load as tensors_from_bytes

    for obj in _objects(estimator):
        key = getattr(obj, "net_", None)
        if not (hasattr(obj, "__skgcrdp_set_weights__") and isinstance(key, str)):
            continue
        info = manifest["networks"].get(key)
        if info is None:
            raise ModelFileError(f"{path}: no weights are listed for network {key!r}.")
        # The manifest and the weights' own header must agree before any tensor is
        # read; the estimator then checks them against its parameters before it
        # builds a network (on torch's meta device, which allocates nothing).
        declared = {name: tuple(shape) for name, shape in info["shapes"].items()}
        stored = _safetensors_shapes(members[f"weights/{key}.safetensors"])
        if declared != stored:
            raise ModelFileError(
                f"{path}: the manifest and the weights of {type(obj).__name__} disagree on "
                f"their shapes (manifest: {_short(declared)}, weights: {_short(stored)})."
            )
        state = tensors_from_bytes(members[f"weights/{key}.safetensors"])
        broken = sorted(name for name, tensor in state.items()
                        if tensor.dtype.kind == "f" and not np.isfinite(tensor).all())
        if broken:
            raise ModelFileError(f"{path}: the weights of {type(obj).__name__} hold NaN or infinite "
                                 f"values ({count_rest(broken)}); nothing was built.")
        try:
            obj.__skgcrdp_set_weights__(state, _device(device, info["device"]))
        except ValueError as exc:
            raise ModelFileError(f"{path}: {exc}; nothing was built.") from exc


def _short(shapes):
    return {k: shapes[k] for k in sorted(shapes)[:3]}


def _safetensors_shapes(data):
    """The tensor shapes a safetensors member declares, read from its header alone."""
    if len(data) < 8:
        raise ModelFileError("a weights member is too short to be safetensors")
    length = int.from_bytes(data[:8], "little")
    if length > len(data) - 8:
        raise ModelFileError("a weights member declares a header longer than itself")
    header = json.loads(data[8 : 8 + length])
    return {name: tuple(entry["shape"]) for name, entry in header.items()
            if name != "__metadata__"}


def _device(requested, saved):
    if requested is not None:
        return resolve_device(requested)
    if saved.startswith("cuda"):
        import torch

        return saved if torch.cuda.is_available() else "cpu"
    return saved
