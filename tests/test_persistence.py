"""Safe model files: skgcrdp.save / skgcrdp.load never unpickle, and refuse what they cannot check."""

import json
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

pytest.importorskip("skops", reason='needs pip install -e ".[safe]"')
pytest.importorskip("safetensors", reason='needs pip install -e ".[safe]"')

import skgcrdp  # noqa: E402
from skgcrdp import (  # noqa: E402
    CrossModalRetriever,
    GMMFeatureExtractor,
    ModalityTransformer,
    RelativeDistanceAligner,
    embed_modality,
    make_gcrdp_pipeline,
)
from skgcrdp.baselines import (  # noqa: E402
    CrossDecompositionEmbedder,
    DSCMREmbedder,
    RandomProjectionEmbedder,
)
from skgcrdp.modalities import shared_space  # noqa: E402
from skgcrdp.persistence import FORMAT_VERSION, ModelFileError  # noqa: E402
from skgcrdp.profiles import RelativeProfileEmbedder  # noqa: E402
from skgcrdp.union import SharedSpaceUnion  # noqa: E402

from .conftest import FAST  # noqa: E402

PIPE = {f"extract__{k}": v for k, v in FAST.items()} | {"align__max_epochs": 2}


@pytest.fixture(scope="module")
def fitted(synthetic):
    X, y, n_image = synthetic
    return make_gcrdp_pipeline(n_image, random_state=0, device="cpu", **PIPE).fit(X, y)


def _round_trip(estimator, tmp_path, **load_options):
    return skgcrdp.load(skgcrdp.save(estimator, tmp_path / "model.skgcrdp"), **load_options)


def test_default_pipeline_gives_identical_embeddings_neighbours_and_scores(fitted, synthetic,
                                                                          tmp_path):
    X, y, n_image = synthetic
    loaded = _round_trip(fitted, tmp_path)
    np.testing.assert_array_equal(shared_space(loaded, X), shared_space(fitted, X))
    assert loaded.score(X, y) == fitted.score(X, y)
    for modality, part in (("image", X[:, :n_image]), ("text", X[:, n_image:])):
        np.testing.assert_array_equal(embed_modality(loaded, part, modality),
                                      embed_modality(fitted, part, modality))
    Z = shared_space(fitted, X)
    np.testing.assert_array_equal(loaded[-1].kneighbors(Z[:, : Z.shape[1] // 2])[1],
                                  fitted[-1].kneighbors(Z[:, : Z.shape[1] // 2])[1])


@pytest.mark.parametrize("make", [
    lambda n: GMMFeatureExtractor(n, random_state=0, device="cpu", **FAST),
    lambda n: RelativeDistanceAligner(n, max_epochs=2, random_state=0, device="cpu"),
    lambda n: CrossDecompositionEmbedder(n),
    lambda n: DSCMREmbedder(n, hidden_dim=16, embedding_dim=4, max_epochs=2, random_state=0,
                            device="cpu"),
    lambda n: RandomProjectionEmbedder(n, n_components=4, random_state=0),
    lambda n: RelativeProfileEmbedder(n, temperature=0.2),
    lambda n: SharedSpaceUnion([("pls", CrossDecompositionEmbedder(n)),
                                ("profiles", RelativeProfileEmbedder(n, temperature=0.2))],
                               weights={"profiles": 0.5}),
    lambda n: SharedSpaceUnion([("random", RandomProjectionEmbedder(n, random_state=0)),
                                ("profiles", RelativeProfileEmbedder(n, temperature=0.2))],
                               weights={"random": 0}),
], ids=["extractor", "aligner", "pls", "dscmr", "random", "profiles", "union", "union with a dropped member"])
def test_every_embedder_round_trips(make, synthetic, tmp_path):
    X, y, n_image = synthetic
    model = make(n_image).fit(X, y)
    np.testing.assert_array_equal(_round_trip(model, tmp_path).transform(X), model.transform(X))


@pytest.mark.parametrize("algorithm", ["brute", "faiss"])
def test_retriever_with_a_stored_gallery_round_trips(algorithm, tmp_path):
    if algorithm == "faiss":
        pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    gallery, queries = rng.normal(size=(3000, 16)), rng.normal(size=(20, 16))
    retriever = CrossModalRetriever(n_neighbors=5, algorithm=algorithm)
    retriever.fit_gallery(gallery, rng.integers(0, 5, 3000), modality="text")
    loaded = _round_trip(retriever, tmp_path)
    expected = {"brute": "ExactIndex", "faiss": "FaissIndex"}[algorithm]
    assert type(loaded.indexes_["text"]).__name__ == expected   # rebuilt from its rows
    for got, expected in zip(loaded.kneighbors(queries), retriever.kneighbors(queries)):
        np.testing.assert_array_equal(got, expected)


def test_pipeline_with_a_text_front_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    words = np.array(["red", "bus", "dog", "park", "ship", "sea"])
    y = np.repeat([0, 1, 2], 12)
    frame = pd.DataFrame(rng.normal(size=(36, 5)) + y[:, None], columns=[f"p{i}" for i in range(5)])
    frame["caption"] = [" ".join(rng.choice(words[2 * c: 2 * c + 2], 3)) for c in y]
    pre = ModalityTransformer(image=PCA(3), text=make_pipeline(TfidfVectorizer(), TruncatedSVD(2)),
                              image_columns=[f"p{i}" for i in range(5)], text_columns="caption")
    pipe = make_gcrdp_pipeline(preprocess=pre, random_state=0, device="cpu", **PIPE).fit(frame, y)
    loaded = _round_trip(pipe, tmp_path)
    np.testing.assert_array_equal(embed_modality(loaded, ["a red bus"], "text"),
                                  embed_modality(pipe, ["a red bus"], "text"))
    assert loaded.score(frame, y) == pipe.score(frame, y)


def test_loads_in_a_fresh_process(fitted, synthetic, tmp_path):
    X, _, _ = synthetic
    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    np.save(tmp_path / "X.npy", X)
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(f"""
        import numpy as np, skgcrdp
        from skgcrdp.modalities import shared_space
        model = skgcrdp.load({str(path)!r})
        np.save({str(tmp_path / "Z.npy")!r}, shared_space(model, np.load({str(tmp_path / "X.npy")!r})))
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "Z.npy"), shared_space(fitted, X))


def test_an_unfitted_model_is_not_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        skgcrdp.save(make_gcrdp_pipeline(4), tmp_path / "model.skgcrdp")


def test_saving_leaves_the_model_as_it_was(fitted, synthetic, tmp_path):
    X, y, _ = synthetic
    before = shared_space(fitted, X)
    skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    assert fitted[0].net_ is not None and not hasattr(fitted[0], "_saved_network")
    np.testing.assert_array_equal(shared_space(fitted, X), before)


def test_a_model_saved_on_cuda_loads_on_the_cpu(fitted, synthetic, tmp_path, monkeypatch):
    import torch

    X, _, _ = synthetic
    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    manifest, members = _unpack(path)
    for network in manifest["networks"].values():
        network["device"] = "cuda"  # what a GPU fit writes
    _repack(path, manifest, members)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = skgcrdp.load(path)
    assert str(loaded[0].net_.device) == "cpu"
    np.testing.assert_array_equal(shared_space(loaded, X), shared_space(fitted, X))


# -- what loading refuses ---------------------------------------------------------


def _unpack(path):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(members.pop("manifest.json")), members


def _repack(path, manifest, members):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            archive.writestr(name, data)


class _Exploit:
    """Pickling this writes a file when the pickle is loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_file_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.skgcrdp"
    path.write_bytes(pickle.dumps(_Exploit(str(marker))))
    with pytest.raises(ModelFileError, match="not a skgcrdp model file.*never opened"):
        skgcrdp.load(path)
    assert not marker.exists()


def test_a_pickle_hidden_in_a_valid_file_is_refused_and_nothing_runs(fitted, tmp_path):
    # A model payload swapped for a pickle, checksums recomputed: the loader
    # reads skops, not pickle, so the bytes are never unpickled.
    import hashlib

    marker = tmp_path / "pwned"
    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    manifest, members = _unpack(path)
    members["model.skops"] = pickle.dumps(_Exploit(str(marker)))
    manifest["sha256"]["model.skops"] = hashlib.sha256(members["model.skops"]).hexdigest()
    _repack(path, manifest, members)
    with pytest.raises(ModelFileError, match="not a skops payload"):
        skgcrdp.load(path)
    assert not marker.exists()


class NotTrusted(RandomProjectionEmbedder):
    """A type that neither skops nor skgcrdp trusts."""


def test_an_untrusted_type_is_named_and_not_built(tmp_path):
    import skops.io as sio

    rng = np.random.default_rng(0)
    model = NotTrusted(3, n_components=2, random_state=0).fit(rng.normal(size=(10, 5)))
    path = skgcrdp.save(model, tmp_path / "model.skgcrdp")
    with pytest.raises(ModelFileError, match=r"not trusted: \['tests.test_persistence.NotTrusted'\]"):
        skgcrdp.load(path)
    loaded = skgcrdp.load(path, trusted=["tests.test_persistence.NotTrusted"])
    assert type(loaded).__name__ == "NotTrusted"
    assert "tests.test_persistence.NotTrusted" in sio.get_untrusted_types(
        data=_unpack(path)[1]["model.skops"])


def test_a_newer_major_format_is_refused(fitted, tmp_path):
    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    manifest, members = _unpack(path)
    manifest["format_version"] = [FORMAT_VERSION[0] + 1, 0]
    _repack(path, manifest, members)
    with pytest.raises(ModelFileError, match="format version.*Upgrade skgcrdp"):
        skgcrdp.load(path)


def test_truncated_and_altered_files_are_refused(fitted, tmp_path):
    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.skgcrdp"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="not a skgcrdp model file|truncated"):
        skgcrdp.load(truncated)
    manifest, members = _unpack(path)
    weights = next(name for name in members if name.startswith("weights/"))
    members[weights] = members[weights][:-8] + b"\x00" * 8
    _repack(path, manifest, members)
    with pytest.raises(ModelFileError, match=f"checksum of {weights} does not match"):
        skgcrdp.load(path)


def test_weights_of_the_wrong_shape_are_refused(fitted, tmp_path):
    import hashlib

    from safetensors.numpy import load as from_bytes
    from safetensors.numpy import save as to_bytes

    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    manifest, members = _unpack(path)
    name = next(n for n in members if n.startswith("weights/"))
    state = from_bytes(members[name])
    key = next(iter(state))
    state[key] = np.zeros(tuple(s + 1 for s in state[key].shape), dtype=state[key].dtype)
    members[name] = to_bytes(state)
    manifest["sha256"][name] = hashlib.sha256(members[name]).hexdigest()
    _repack(path, manifest, members)
    with pytest.raises(ModelFileError, match="manifest and the weights .* disagree"):
        skgcrdp.load(path)
    # A thorough forger updates the manifest too: the saved parameters still disagree.
    network = name.removeprefix("weights/").removesuffix(".safetensors")
    manifest["networks"][network]["shapes"][key] = list(state[key].shape)
    _repack(path, manifest, members)
    with pytest.raises(ModelFileError, match="do not fit the network"):
        skgcrdp.load(path)


# -- bounds, one exception, and what save refuses ---------------------------------------


def _reseal(path, manifest, members):
    """Repack with checksums that match the (altered) members, as an attacker would."""
    import hashlib

    manifest["sha256"] = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    _repack(path, manifest, members)


def _with_saved_parameter(model, tmp_path, name, value):
    """A saved model whose skops part gives the first parameter ``name`` another value.

    Checksums are recomputed, as an attacker would: only the loader's own
    checks stand between such a file and what it asks for.
    """
    import io
    import re

    path = skgcrdp.save(model, tmp_path / "model.skgcrdp")
    manifest, members = _unpack(path)
    inner_in = zipfile.ZipFile(io.BytesIO(members["model.skops"]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as inner_out:
        for info in inner_in.infolist():
            data = inner_in.read(info)
            if info.filename == "schema.json":
                schema = data.decode()
                at = schema.index(f'"{name}"')
                data = (schema[:at] + re.sub(r'"content": "\d+"', f'"content": "{value}"',
                                             schema[at:], count=1)).encode()
            inner_out.writestr(info, data)
    members["model.skops"] = buffer.getvalue()
    _reseal(path, manifest, members)
    return path


def _peak_python_bytes(call):
    """Peak of Python's own allocations while ``call()`` runs, and its exception."""
    import tracemalloc

    tracemalloc.start()
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - handed back to be checked
        raised = exc
    else:
        raised = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, raised


def test_a_compression_bomb_is_refused_before_it_is_read(fitted, tmp_path):
    import time

    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    bomb = tmp_path / "bomb.skgcrdp"
    manifest, members = _unpack(path)
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        with archive.open("model.skops", "w", force_zip64=True) as stream:
            zeros = bytes(64 << 20)
            for _ in range(8):                       # 512 MiB of zeros, about 0.5 MB on disk
                stream.write(zeros)
    assert bomb.stat().st_size < 2 << 20
    start = time.perf_counter()
    peak, raised = _peak_python_bytes(lambda: skgcrdp.load(bomb))
    assert isinstance(raised, ModelFileError) and "uncompressed" in str(raised)
    assert peak < 16 << 20, peak                     # nothing near the 512 MiB was read
    assert time.perf_counter() - start < 5


def test_parameters_that_describe_a_huge_network_allocate_nothing(fitted, tmp_path):
    # The skops part says hidden_dim=3,000,000 (a 6 GB network); the weights
    # are the real, small ones. Measured in a fresh process: its peak RSS.
    path = _with_saved_parameter(fitted, tmp_path, "hidden_dim", 3_000_000)
    script = textwrap.dedent(f"""
        import resource, skgcrdp
        from skgcrdp.exceptions import ModelFileError
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            skgcrdp.load({str(path)!r})
        except ModelFileError as exc:
            print("refused:", exc)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("grew_kib", after - before)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "refused:" in out and "do not fit the network" in out
    grew = int(out.split("grew_kib")[1])
    assert grew < 200 * 1024, out                    # under 200 MB; the network is 6 GB


def test_faiss_bytes_in_a_file_are_never_deserialised(tmp_path, monkeypatch):
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    retriever = CrossModalRetriever().fit_gallery(rng.normal(size=(50, 4)), modality="text")
    path = skgcrdp.save(retriever, tmp_path / "model.skgcrdp")
    # What 0.1 kept: serialised faiss bytes in indexes_ (here crafted ones).
    assert skgcrdp.load(path).indexes_["text"] is not None
    retriever.indexes_ = {"image": None, "text": np.frombuffer(b"IwFl" * 700, dtype=np.uint8)}
    crafted = skgcrdp.save(retriever, tmp_path / "crafted.skgcrdp")
    monkeypatch.setattr(faiss, "deserialize_index",
                        lambda data: pytest.fail("faiss bytes from a file were deserialised"))
    with pytest.raises(ModelFileError, match="search index"):
        skgcrdp.load(crafted)


@pytest.mark.parametrize("mutate, words", [
    (lambda m: m.update(format_version=[0, 0]), "format version"),
    (lambda m: m.update(format_version=[1, 0]), r"format version \[1, 0\].*Fit and save"),
    (lambda m: m.update(format_version=[-5, 0]), "format_version"),
    (lambda m: m.update(format_version="1.1"), "format_version"),
    (lambda m: m.update(format_version=[1]), "format_version"),
    (lambda m: m.update(sha256=["x"]), "sha256"),
    (lambda m: m.update(sha256={"model.skops": 5}), "sha256"),
    (lambda m: m.update(networks=[]), "networks"),
    (lambda m: m["networks"]["net0"].update(device="meta"), "device 'meta'"),
    (lambda m: m["networks"]["net0"].update(device="cuda:x"), "device"),
    (lambda m: m["networks"]["net0"].update(device=None), "device"),
    (lambda m: m["networks"]["net0"].update(shapes={"w": [-1]}), "shapes"),
    (lambda m: m["networks"]["net0"].update(shapes=[]), "shapes"),
    (lambda m: m["networks"].update(net9=m["networks"]["net0"]), "altered|weights"),
    (lambda m: m["networks"].pop("net0"), "do not belong|no weights"),
    (lambda m: m.pop("sha256"), "sha256"),
    (lambda m: m.update(format=None), "not a skgcrdp model file"),
])
def test_a_malformed_manifest_is_a_model_file_error(fitted, tmp_path, mutate, words):
    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    manifest, members = _unpack(path)
    mutate(manifest)
    _repack(path, manifest, members)
    with pytest.raises(ModelFileError, match=words):
        skgcrdp.load(path)


def test_a_manifest_that_is_not_an_object_or_nests_too_deep(fitted, tmp_path):
    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    _, members = _unpack(path)
    for text in ("[]", "[" * 100_000 + "]" * 100_000, "not json"):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("manifest.json", text)
            for name, data in members.items():
                archive.writestr(name, data)
        with pytest.raises(ModelFileError):
            skgcrdp.load(path)


def test_flipped_bytes_anywhere_give_a_model_file_error_and_nothing_else(fitted, synthetic,
                                                                          tmp_path):
    X, y, _ = synthetic
    original = skgcrdp.save(fitted, tmp_path / "model.skgcrdp").read_bytes()
    with zipfile.ZipFile(tmp_path / "model.skgcrdp") as archive:
        data_spans = [(info.header_offset + 30 + len(info.filename) + len(info.extra),
                       info.compress_size) for info in archive.infolist()]
    rng = np.random.default_rng(0)
    positions = rng.choice(len(original), 120, replace=False)
    in_member_data = {int(start + rng.integers(size)) for start, size in data_spans}
    refused = 0
    for position in sorted(set(positions.tolist()) | in_member_data):
        flipped = bytearray(original)
        flipped[position] ^= 0xFF
        path = tmp_path / "flipped.skgcrdp"
        path.write_bytes(bytes(flipped))
        try:
            loaded = skgcrdp.load(path)
        except ModelFileError:
            refused += 1
            continue
        # A flip the format does not cover (a timestamp in a header) may load:
        # then it loads the very model that was saved.
        assert position not in in_member_data
        np.testing.assert_array_equal(shared_space(loaded, X), shared_space(fitted, X))
    assert refused >= len(in_member_data)


def test_a_missing_path_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such model file"):
        skgcrdp.load(tmp_path / "nowhere.skgcrdp")
    with pytest.raises(FileNotFoundError):
        skgcrdp.load(tmp_path)                        # a folder is not a model file


def _double(x):
    return 2 * x


def test_save_refuses_what_load_could_not_build_and_leaves_no_file(synthetic, tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    X, y, n_image = synthetic
    for func, words in ((lambda x: 2 * x, "lambda"), (_double, None)):
        model = make_pipeline(FunctionTransformer(func), CrossModalRetriever())
        model.fit(np.hstack([X[:, :10], X[:, 20:30]]), y)
        path = tmp_path / "model.skgcrdp"
        if words is None:      # an importable function saves, and loads when trusted
            skgcrdp.save(model, path)
            loaded = skgcrdp.load(path, trusted=["tests.test_persistence._double"])
            assert loaded[0].func is _double
            path.unlink()
            continue
        with pytest.raises(ValueError, match=f"{words}.*FunctionTransformer.func.*Nothing was written"):
            skgcrdp.save(model, path)
        assert list(tmp_path.iterdir()) == []


def test_save_refuses_a_class_defined_in_main(tmp_path, monkeypatch):
    # What a script or notebook defines lives in __main__, which load cannot import.
    class Scripted(RandomProjectionEmbedder):
        pass

    Scripted.__module__, Scripted.__qualname__ = "__main__", "Scripted"
    monkeypatch.setattr(sys.modules["__main__"], "Scripted", Scripted, raising=False)
    model = Scripted(3, n_components=2, random_state=0).fit(np.random.default_rng(0).normal(size=(10, 5)))
    with pytest.raises(ValueError, match="__main__.Scripted.*defined in __main__.*Nothing was written"):
        skgcrdp.save(model, tmp_path / "model.skgcrdp")
    assert list(tmp_path.iterdir()) == []


def test_parameters_asking_for_endless_layers_are_refused_before_any_is_built(fitted, tmp_path):
    import time

    path = _with_saved_parameter(fitted, tmp_path, "n_hidden_layers", 1_000_000_000)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="1000000000 hidden layers"):
        skgcrdp.load(path)
    assert time.perf_counter() - start < 10


def test_a_search_index_with_rows_that_are_not_rows_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    retriever = CrossModalRetriever().fit_gallery(rng.normal(size=(50, 4)), modality="text")
    retriever.indexes_["text"].vectors = "not rows"
    path = skgcrdp.save(retriever, tmp_path / "model.skgcrdp")
    with pytest.raises(ModelFileError, match="gallery rows"):
        skgcrdp.load(path)


# -- restored state: validated as fit would leave it ------------------------------------


def _small_retriever(algorithm="brute", **params):
    rng = np.random.default_rng(0)
    retriever = CrossModalRetriever(n_neighbors=2, algorithm=algorithm, **params)
    return retriever.fit_gallery(rng.normal(size=(400, 4)), np.arange(400) % 5, modality="text")


def _tampered(retriever, tmp_path, edit):
    """A file saved from ``retriever`` after ``edit(retriever)``: its checksums are valid."""
    import copy

    tampered = copy.deepcopy(retriever)
    edit(tampered)
    return skgcrdp.save(tampered, tmp_path / "tampered.skgcrdp")


def _set_index(modality, **values):
    return lambda r: vars(r.indexes_[modality]).update(values)


def _set_labels(labels):
    return lambda r: r.gallery_labels_.update(text=labels)


@pytest.mark.parametrize("algorithm, edit, words", [
    ("brute", _set_index("text", block_size=-1), r"ExactIndex.block_size must be None or an int >= 1"),
    ("faiss", _set_index("text", index_params={"nprobe": 0}), r"index_params\['nprobe'\] must be"),
    ("faiss", _set_index("text", index_params={"nlist": 300}), "300 is too many lists for a gallery "
                                                                "of 400 rows"),
    ("brute", _set_labels(np.zeros((400, 2))), r"gallery_labels_\['text'\] that is not a 1-D array"),
    ("brute", _set_labels(np.arange(10)), r"gallery_labels_\['text'\] of 10 labels for a gallery of 400"),
    ("brute", _set_labels(np.full(400, np.nan)), "NaN"),
    ("brute", lambda r: setattr(r, "n_neighbors", 0), "n_neighbors"),
    ("brute", lambda r: setattr(r, "stowaway", 1), "attributes its class never sets: stowaway"),
], ids=["block_size", "nprobe", "nlist", "2-D labels", "short labels", "NaN labels", "n_neighbors",
        "unknown attribute"])
def test_a_tampered_retriever_is_refused_before_it_answers(algorithm, edit, words, tmp_path,
                                                          monkeypatch):
    if algorithm == "faiss":
        pytest.importorskip("faiss")
        from skgcrdp._search import _faiss
    path = _tampered(_small_retriever(algorithm), tmp_path, edit)
    if algorithm == "faiss":   # refused before any index is built
        monkeypatch.setattr(_faiss, "build_ivf", lambda *a: pytest.fail("an index was built"))
    with pytest.raises(ModelFileError, match=words):
        skgcrdp.load(path)


def test_nan_network_weights_are_refused(fitted, tmp_path):
    from safetensors.numpy import load as from_bytes
    from safetensors.numpy import save as to_bytes

    path = skgcrdp.save(fitted, tmp_path / "model.skgcrdp")
    manifest, members = _unpack(path)
    name = next(n for n in members if n.startswith("weights/"))
    state = from_bytes(members[name])
    key = sorted(state)[0]
    state[key] = np.full_like(state[key], np.nan)
    members[name] = to_bytes(state)
    _reseal(path, manifest, members)
    with pytest.raises(ModelFileError, match=f"NaN or infinite values \\({key}\\)"):
        skgcrdp.load(path)


def _edit_schema(path, edit):
    """Rewrite the skops schema of a saved model with ``edit(schema)``; checksums resealed."""
    import io

    manifest, members = _unpack(path)
    inner = zipfile.ZipFile(io.BytesIO(members["model.skops"]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for info in inner.infolist():
            data = inner.read(info)
            if info.filename == "schema.json":
                data = json.dumps(edit(json.loads(data))).encode()
            out.writestr(info.filename, data)
    members["model.skops"] = buffer.getvalue()
    _reseal(path, manifest, members)


def test_a_pipeline_step_that_is_a_huge_list_is_refused_before_anything_is_built(tmp_path,
                                                                                 monkeypatch):
    import skops.io as sio
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(3000, 8)), np.arange(3000) % 2      # incompressible rows: a larger file
    pipe = make_pipeline(StandardScaler(), CrossModalRetriever()).fit(X, y)
    path = skgcrdp.save(pipe, tmp_path / "model.skgcrdp")

    def huge_last_step(schema):
        items = [{"__class__": "int", "__module__": "builtins", "__loader__": "JsonNode",
                  "content": str(i), "is_json": True, "__id__": i} for i in range(100_000)]
        schema["content"]["content"]["steps"]["content"][-1]["content"][1] = {
            "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
            "content": items, "__id__": -1}
        return schema

    _edit_schema(path, huge_last_step)
    for name in ("loads", "get_untrusted_types"):
        monkeypatch.setattr(sio, name, lambda *a, **k: pytest.fail("skops built the file"))
    with pytest.raises(ModelFileError, match=r"Pipeline.steps\[1\] holds a list where an estimator "
                                             "belongs; nothing was built"):
        skgcrdp.load(path)


@pytest.mark.parametrize("steps, words", [
    (lambda s: [s[0], ("standardscaler", s[1][1])], "repeated"),
    (lambda s: [s[0], ("a__b", s[1][1])], "holds '__'"),
])
def test_pipeline_steps_are_checked_after_they_are_built(steps, words, tmp_path):
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    pipe = make_pipeline(StandardScaler(), CrossModalRetriever()).fit(rng.normal(size=(20, 4)))
    pipe.steps = steps(pipe.steps)
    with pytest.raises(ModelFileError, match=words):
        skgcrdp.load(skgcrdp.save(pipe, tmp_path / "model.skgcrdp"))


def test_every_restored_estimator_has_its_parameters_validated(tmp_path):
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    pipe = make_pipeline(StandardScaler(), CrossModalRetriever()).fit(rng.normal(size=(20, 4)))
    pipe[0].with_mean = "yes"
    with pytest.raises(ModelFileError, match="'with_mean' parameter of StandardScaler"):
        skgcrdp.load(skgcrdp.save(pipe, tmp_path / "model.skgcrdp"))


@pytest.mark.parametrize("n_stray, words", [
    (50, r"members \['stray/0', 'stray/1', 'stray/10' and 47 more\] do not belong"),
    (2000, "declares 2,002 members; a model file has at most 1000. Nothing was read"),
])
def test_stray_members_are_named_a_few_and_counted(n_stray, words, tmp_path):
    path = skgcrdp.save(_small_retriever(), tmp_path / "model.skgcrdp")
    manifest, members = _unpack(path)
    members.update({f"stray/{i}": b"" for i in range(n_stray)})
    _reseal(path, manifest, members)
    with pytest.raises(ModelFileError, match=words) as raised:
        skgcrdp.load(path)
    assert len(str(raised.value)) < 300


# -- saving: atomic, and nothing left behind ---------------------------------------------


def _partials(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".skgcrdp-partial"))


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    retriever = _small_retriever()
    path = skgcrdp.save(retriever, tmp_path / "model.skgcrdp")
    before = path.read_bytes()

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", full)
    with pytest.raises(OSError, match=f"No space left on device.*{path.name}") as raised:
        skgcrdp.save(retriever, path)
    assert raised.value.filename == str(path) and raised.value.errno == 28
    assert path.read_bytes() == before and _partials(tmp_path) == []


def test_saving_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "nowhere" / "model.skgcrdp"
    with pytest.raises(FileNotFoundError) as raised:
        skgcrdp.save(_small_retriever(), target)
    assert raised.value.filename == str(target)


def test_a_save_removes_the_temporaries_of_killed_saves_and_no_others(tmp_path):
    import os
    import socket
    import time

    host = __import__("re").sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    names = {
        "dead": f".model.skgcrdp.{host}-{dead}.abc123.skgcrdp-partial",
        "live": f".model.skgcrdp.{host}-{os.getppid()}.def456.skgcrdp-partial",
        "old": f".other.skgcrdp.elsewhere-{os.getppid()}.ghi789.skgcrdp-partial",
        "young elsewhere": ".other.skgcrdp.elsewhere-1.jkl012.skgcrdp-partial",
        "not ours": ".model.skgcrdp.notes",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    hours_ago = time.time() - 7200
    os.utime(tmp_path / names["old"], (hours_ago, hours_ago))
    skgcrdp.save(_small_retriever(), tmp_path / "model.skgcrdp")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["model.skgcrdp", names["live"], names["young elsewhere"], names["not ours"]])


def test_sigkill_at_any_moment_of_a_save_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    import os
    import signal
    import time

    rng = np.random.default_rng(0)
    # A gallery large enough that writing it takes a while (about 10 MB).
    retriever = CrossModalRetriever().fit_gallery(rng.normal(size=(300_000, 4)), modality="text")
    path = skgcrdp.save(retriever, tmp_path / "model.skgcrdp")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    # The first kill waits for a temporary to be written (a loaded machine may
    # otherwise kill the child before it writes anything); the others come at
    # random moments.
    delays = [None, *np.random.default_rng(1).uniform(0.0, 1.5, 3)]
    for delay in delays:
        pid = os.fork()
        if pid == 0:   # the child saves over and over until it is killed
            try:
                while True:
                    skgcrdp.save(retriever, path)
            finally:
                os._exit(1)
        if delay is None:
            deadline = time.monotonic() + 60
            while not _partials(tmp_path) and time.monotonic() < deadline:
                time.sleep(0.001)
        else:
            time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with zipfile.ZipFile(path) as archive:            # the old file or a new one, whole
            assert archive.testzip() is None and archive.namelist() == names
    assert len(_partials(tmp_path)) >= 1                  # the kills did leave temporaries
    loaded = skgcrdp.load(path)
    np.testing.assert_array_equal(loaded.kneighbors(np.ones((1, 4)))[1],
                                  retriever.kneighbors(np.ones((1, 4)))[1])
    skgcrdp.save(retriever, path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.skgcrdp"]


# -- fuzz: random edits of a saved model's attributes ---------------------------------------

# Values no fit leaves where the fuzz puts them, or valid ones that leave the
# answers below unchanged (a block size, a parameter the calls override).
HOSTILE = [None, -1, 0, 1, 2**40, 1.5, float("nan"), float("inf"), "x", True, [], {}, (1, 2),
           {"image": None}, {"image": None, "text": 1}, {"nlist": 0}, {"nprobe": 3},
           np.zeros(3), np.zeros((3, 3)), np.ones((0, 4)), np.full((5, 4), np.nan),
           np.arange(7), np.zeros((2, 2, 2)), np.array(["a", "b"]), np.float64(np.nan)]


def _attribute_paths(obj, prefix=()):
    """Every attribute an edit may reach: an object's own, its dicts' entries, its indexes' own."""
    from sklearn.base import BaseEstimator

    from skgcrdp._search import SearchIndex

    for name, value in sorted(vars(obj).items()):
        path = prefix + (name,)
        yield path
        if isinstance(value, dict):
            for key, item in sorted(value.items()):
                yield path + (key,)
                if isinstance(item, SearchIndex):
                    yield from _attribute_paths(item, path + (key,))
        elif isinstance(value, (BaseEstimator, SearchIndex)) and name != "net_":
            yield from _attribute_paths(value, path)


def _edit(obj, path, value):
    for step in path[:-1]:
        obj = obj[step] if isinstance(obj, dict) else getattr(obj, step)
    if isinstance(obj, dict):
        obj[path[-1]] = value
    else:
        setattr(obj, path[-1], value)


def _answers_or_refusal(model, path_on_disk, answers):
    """The loaded file's answers, or None when load refuses it with a ModelFileError."""
    try:
        loaded = skgcrdp.load(path_on_disk)
    except ModelFileError:
        return None
    return answers(loaded)


def _fuzz(model, answers, tmp_path, data, paths, edit=_edit):
    import copy

    from hypothesis import assume

    expected = answers(model)
    path = data.draw(st.sampled_from(paths), label="attribute")
    value = data.draw(st.sampled_from(HOSTILE), label="value")
    tampered = copy.deepcopy(model)
    edit(tampered, path, value)
    try:
        saved = skgcrdp.save(tampered, tmp_path / "fuzzed.skgcrdp")
    except Exception:  # noqa: BLE001 - a value save itself cannot write: nothing to load
        assume(False)
    from hypothesis import event

    got = _answers_or_refusal(tampered, saved, answers)
    event("refused" if got is None else "loaded")
    if got is not None:   # loaded: then it answers exactly as the untampered model
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)


try:
    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis comes with the [test] extra
    st = None


def _fuzzed(examples):
    def decorate(test):
        if st is None:
            return pytest.mark.skip(reason="needs hypothesis")(test)
        return seed(34)(settings(max_examples=examples, deadline=None, derandomize=True,
                                 database=None, suppress_health_check=list(HealthCheck))(
            given(data=st.data())(test)))
    return decorate


def _retriever_answers(X, y):
    def answers(model):
        image = model.kneighbors(X, n_neighbors=3, query_modality="image")
        text = model.kneighbors(X, n_neighbors=3, query_modality="text")
        return (*image, *text, model.predict(X), model.score(X, y))
    return answers


@_fuzzed(40)
def test_random_edits_of_a_saved_retriever_are_refused_or_change_nothing(tmp_path_factory, data):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 8)), np.arange(40) % 4
    retriever = CrossModalRetriever(block_size=16).fit(X, y)
    _fuzz(retriever, _retriever_answers(X, y), tmp_path_factory.mktemp("fuzz"), data,
          list(_attribute_paths(retriever)))


@_fuzzed(25)
def test_random_edits_of_a_saved_pipeline_are_refused_or_change_nothing(fitted, synthetic,
                                                                         tmp_path_factory, data):
    X, y, _ = synthetic

    def answers(model):
        return model.predict(X), model.score(X, y), model[:-1].transform(X)

    # The pipeline's own attributes, every step's parameters, the retriever's state.
    paths = [("steps",), ("memory",), ("verbose",), ("transform_input",)]
    for i, (_, step) in enumerate(fitted.steps):
        params = step._get_param_names()
        paths += [("steps", i, name) for name in params]
    paths += [("retriever",) + p for p in _attribute_paths(fitted[-1])]

    def edit(obj, path, value):
        if path[0] == "retriever":
            _edit(obj[-1], path[1:], value)
        elif len(path) == 3:
            setattr(obj.steps[path[1]][1], path[2], value)
        else:
            setattr(obj, path[0], value)

    _fuzz(fitted, answers, tmp_path_factory.mktemp("fuzz"), data, paths, edit)


@pytest.mark.parametrize("weight", [np.nan, np.inf, -1.0])
def test_a_union_restored_with_weights_fit_could_not_leave_is_refused(weight, synthetic, tmp_path):
    X, y, n_image = synthetic
    union = SharedSpaceUnion([("pls", CrossDecompositionEmbedder(n_image)),
                              ("profiles", RelativeProfileEmbedder(n_image, temperature=0.2))],
                             weights={"profiles": 0.5}).fit(X, y)
    union.weights_["profiles"] = weight
    with pytest.raises(ModelFileError, match="weights_ that are not finite weights >= 0"):
        skgcrdp.load(skgcrdp.save(union, tmp_path / "model.skgcrdp"))
