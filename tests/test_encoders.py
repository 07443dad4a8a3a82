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
    from PIL import Image

    rng = np.random.default_rng(0)
    colours = {0: "red", 1: "blue", 2: "green", 3: "yellow"}
    paths, captions, labels = [], [], []
    for label, colour in colours.items():
        for i in range(6):
            size = tuple(int(v) for v in rng.integers(20, 60, 2))
            path = tmp_path / f"{colour}{i}.png"
            Image.new("RGB", size, colour).save(path)
            paths.append(str(path))
            captions.append(f"a {colour} square number {i}")
            labels.append(label)
    frame = pd.DataFrame({"picture": paths, "caption": captions})
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
