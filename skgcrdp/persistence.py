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

import hashlib
import json
import zipfile
from contextlib import contextmanager
from pathlib import Path

from sklearn.utils.validation import check_is_fitted

from ._version import __version__
from .exceptions import ModelFileError
from .utils import resolve_device

__all__ = ["ModelFileError", "load", "save"]

FORMAT = "skgcrdp-model"
# 1.1: search indexes are stored as their gallery rows (ExactIndex, FaissIndex);
# 1.0 files (galleries_ dicts, the network key in _saved_network) still load.
FORMAT_VERSION = (1, 1)
EXTRA = 'pip install -e ".[safe]"'
MANIFEST = "manifest.json"
MODEL = "model.skops"

# The library's own types: trusted by default, as scikit-learn's are by skops.
OWN_TYPES = [
    "skgcrdp.extraction.GMMFeatureExtractor",
    "skgcrdp.gmm.GMMFeatureExtractor",   # its 0.1 path, in files written then
    "skgcrdp.alignment.RelativeDistanceAligner",
    "skgcrdp.retrieval.CrossModalRetriever",
    "skgcrdp.preprocessing.ModalityTransformer",
    "skgcrdp.baselines.CrossDecompositionEmbedder",
    "skgcrdp.baselines.RandomProjectionEmbedder",
    "skgcrdp.baselines.RelativeProfileEmbedder",
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
    manifest = {
        "format": FORMAT,
        "format_version": list(FORMAT_VERSION),
        "skgcrdp_version": _library_version(),
        "versions": _versions(),
        "networks": networks,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        for name, data in members.items():
            archive.writestr(name, data)
    return path


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
    ModelFileError
        The file is not a skgcrdp model file, comes from a newer major
        format version, is truncated or altered, holds an untrusted type,
        or its weights do not fit the saved parameters.
    """
    _require()
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(path)
    members = _read_checked(path)
    trusted = OWN_TYPES + list(trusted or [])
    try:
        found = sio.get_untrusted_types(data=members[MODEL])
    except (zipfile.BadZipFile, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path}: {MODEL} is not a skops payload ({exc}); nothing was "
                             "built from it.") from None
    untrusted = sorted(set(found) - set(trusted))
    if untrusted:
        raise ModelFileError(
            f"{path} holds types that are not trusted: {untrusted}. Nothing was built. If "
            "you trust the file and these types, pass load(..., trusted=[...]) with their names."
        )
    try:
        estimator = sio.loads(members[MODEL], trusted=trusted)
    except UntrustedTypesFoundException as exc:  # the audit above should have caught it
        raise ModelFileError(f"{path} holds types that are not trusted: {exc}") from None
    manifest = json.loads(members[MANIFEST])
    _restore_runtime_state(estimator, members, manifest, device, path)
    return estimator


def _read_checked(path):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(
            f"{path} is not a skgcrdp model file ({exc}); a pickle or joblib file is "
            "never opened by skgcrdp.load."
        ) from None
    with archive:
        try:
            members = {name: archive.read(name) for name in archive.namelist()}
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ModelFileError(f"{path} is truncated or damaged: {exc}") from None
    if MANIFEST not in members:
        raise ModelFileError(f"{path} has no {MANIFEST}: it is not a skgcrdp model file.")
    try:
        manifest = json.loads(members[MANIFEST])
    except ValueError as exc:
        raise ModelFileError(f"{path}: its {MANIFEST} is not valid JSON ({exc}).") from None
    if manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a skgcrdp model file (format {manifest.get('format')!r}).")
    major = manifest.get("format_version", [None])[0]
    if not isinstance(major, int) or major > FORMAT_VERSION[0]:
        raise ModelFileError(
            f"{path} was written in format version {manifest.get('format_version')} by skgcrdp "
            f"{manifest.get('skgcrdp_version')}; this skgcrdp ({_library_version()}) reads format "
            f"{FORMAT_VERSION[0]}.x. Upgrade skgcrdp to load it."
        )
    expected = manifest.get("sha256", {})
    if set(expected) != set(members) - {MANIFEST}:
        raise ModelFileError(
            f"{path} has members {sorted(set(members) - {MANIFEST})} but its manifest lists "
            f"{sorted(expected)}: the file was altered."
        )
    for name, digest in expected.items():
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise ModelFileError(f"{path}: the checksum of {name} does not match: the file is "
                                 "damaged or was altered.")
    return members


def _restore_runtime_state(estimator, members, manifest, device, path):
    from safetensors.numpy import load as tensors_from_bytes

    for obj in _objects(estimator):
        key = getattr(obj, "net_", None)
        if not (hasattr(obj, "__skgcrdp_set_weights__") and isinstance(key, str)):
            continue
        info = manifest["networks"].get(key)
        if info is None:
            raise ModelFileError(f"{path}: no weights are listed for network {key!r}.")
        state = tensors_from_bytes(members[f"weights/{key}.safetensors"])
        try:
            obj.__skgcrdp_set_weights__(state, _device(device, info["device"]))
        except ValueError as exc:
            raise ModelFileError(f"{path}: {exc}.") from None


def _device(requested, saved):
    if requested is not None:
        return resolve_device(requested)
    if saved.startswith("cuda"):
        import torch

        return saved if torch.cuda.is_available() else "cpu"
    return saved
