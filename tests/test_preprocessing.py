"""ModalityTransformer: per-modality preprocessing and raw inputs inside the pipeline."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgcrdp import (
    CrossModalRetriever,
    GMMFeatureExtractor,
    ModalityTransformer,
    RelativeDistanceAligner,
    embed_modality,
    make_gcrdp_pipeline,
)
from skgcrdp.modalities import shared_space
from skgcrdp.model_selection import ClassDisjointSplit

from .conftest import FAST

FAST_PIPE = {f"extract__{k}": v for k, v in FAST.items()} | {"align__max_epochs": 2}
WORDS = {0: ["red", "bus", "street"], 1: ["dog", "park", "ball"], 2: ["ship", "sea", "harbour"],
         3: ["mountain", "snow", "peak"]}


def captioned_frame(n_per_class=15, seed=0):
    """Image features, a raw caption column and labels for 4 classes."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for label, words in WORDS.items():
        centre = rng.normal(size=6) * 3
        for _ in range(n_per_class):
            caption = " ".join(rng.choice(words, 2)) + " " + rng.choice(["a", "the", "one"])
            rows.append([*(centre + rng.normal(size=6)), caption])
            labels.append(label)
    frame = pd.DataFrame(rows, columns=[f"px{i}" for i in range(6)] + ["caption"])
    return frame, np.array(labels)


PIXELS = [f"px{i}" for i in range(6)]


def text_pre(**params):
    return ModalityTransformer(
        image=PCA(3),
        text=make_pipeline(TfidfVectorizer(), TruncatedSVD(4, random_state=0)),
        image_columns=PIXELS,
        text_columns="caption",
        **params,
    )


def test_output_is_the_one_x_contract():
    frame, y = captioned_frame()
    Z = text_pre().fit_transform(frame, y)
    assert isinstance(Z, pd.DataFrame) and Z.shape == (len(y), 7)
    assert Z.columns.tolist() == [f"img__pca{i}" for i in range(3)] + [
        f"txt__truncatedsvd{i}" for i in range(4)]
    assert Z.index.equals(frame.index)


@pytest.mark.parametrize("modality, block", [("image", slice(0, 3)), ("text", slice(3, 7))])
def test_one_modality_equals_its_half_of_the_paired_output(modality, block):
    frame, y = captioned_frame()
    pre = text_pre().fit(frame, y)
    paired = pre.transform(frame).to_numpy()[:, block]
    columns = PIXELS if modality == "image" else "caption"
    for one in (frame[columns], frame[columns].to_numpy(), frame, frame[columns].tolist()
                if modality == "text" else frame[columns]):
        np.testing.assert_allclose(pre.transform_modality(one, modality), paired, rtol=1e-12)


def test_array_input_with_a_split_and_prefixed_frames():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 5))
    pre = ModalityTransformer(image=StandardScaler(), n_image_features=3).fit(X)
    Z = pre.transform(X)
    assert Z.columns.tolist() == ["img__x0", "img__x1", "img__x2", "txt__0", "txt__1"]
    np.testing.assert_allclose(Z.to_numpy()[:, :3], StandardScaler().fit_transform(X[:, :3]))
    np.testing.assert_array_equal(Z.to_numpy()[:, 3:], X[:, 3:])
    prefixed = pd.DataFrame(X, columns=["img__a", "img__b", "img__c", "txt__a", "txt__b"])
    names = ModalityTransformer(text=PCA(1)).fit(prefixed).get_feature_names_out().tolist()
    assert names == ["img__a", "img__b", "img__c", "txt__pca0"]


def test_pipeline_from_the_issue_fits_and_embeds_one_modality():
    # The ColumnTransformer version of this pipeline could neither find the
    # split nor embed captions alone (issue 11).
    frame, y = captioned_frame()
    pipe = make_pipeline(
        text_pre(),
        GMMFeatureExtractor(random_state=0, **FAST),
        RelativeDistanceAligner(max_epochs=2, random_state=0),
        CrossModalRetriever(),
    ).fit(frame, y)
    paired = shared_space(pipe, frame)
    half = paired.shape[1] // 2
    texts = embed_modality(pipe, frame["caption"].tolist(), "text")
    images = embed_modality(pipe, frame[PIXELS], "image")
    np.testing.assert_allclose(texts, paired[:, half:], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(images, paired[:, :half], rtol=1e-5, atol=1e-6)
    assert embed_modality(pipe, ["a red double-decker bus"], "text").shape == (1, half)


def test_column_transformer_still_gets_the_clear_refusal():
    frame, y = captioned_frame()
    pre = ColumnTransformer([("img", PCA(3), PIXELS), ("txt", TfidfVectorizer(), "caption")])
    pipe = make_pipeline(pre, GMMFeatureExtractor(3, random_state=0, **FAST))
    pipe.fit(frame, y)
    with pytest.raises(TypeError, match="ModalityTransformer"):
        embed_modality(pipe, frame["caption"].tolist(), "text")


def test_make_gcrdp_pipeline_takes_it_and_grid_search_tunes_inside():
    frame, y = captioned_frame()
    pipe = make_gcrdp_pipeline(preprocess=text_pre(), random_state=0, device="cpu", **FAST_PIPE)
    assert [name for name, _ in pipe.steps] == ["pre", "extract", "align", "retrieve"]
    assert pipe.get_params()["extract__n_image_features"] is None
    grid = {"pre__text__truncatedsvd__n_components": [2, 4]}
    cv = ClassDisjointSplit(2, test_size=2, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv).fit(frame, y)
    assert search.best_params_["pre__text__truncatedsvd__n_components"] in (2, 4)
    assert search.best_estimator_.named_steps["pre"].n_text_features_out_ in (2, 4)


def test_make_gcrdp_pipeline_passes_the_raw_split_to_it():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 7)), np.repeat([0, 1, 2, 3], 10)
    pre = ModalityTransformer(image=PCA(2))
    pipe = make_gcrdp_pipeline(4, preprocess=pre, random_state=0, **FAST_PIPE).fit(X, y)
    assert pipe.named_steps["pre"].n_image_features == 4 and pre.n_image_features is None
    assert embed_modality(pipe, X[:, :4], "image").shape[0] == 40
    with pytest.raises(TypeError, match="transform each modality"):
        make_gcrdp_pipeline(preprocess=StandardScaler())


def test_set_output_and_round_trips():
    frame, y = captioned_frame()
    pre = text_pre().fit(frame, y)
    expected = pre.transform(frame)
    pd.testing.assert_frame_equal(clone(text_pre()).set_output(transform="pandas")
                                  .fit(frame, y).transform(frame), expected)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(pre)).transform(frame), expected)
    pd.testing.assert_frame_equal(clone(pre).fit(frame, y).transform(frame), expected)


def test_set_output_default_gives_an_array_and_the_split_stays_known():
    frame, y = captioned_frame()
    expected = text_pre().fit(frame, y).transform(frame)
    plain = text_pre().set_output(transform="default").fit(frame, y)
    Z = plain.transform(frame)
    assert isinstance(Z, np.ndarray)
    np.testing.assert_array_equal(Z, expected.to_numpy())
    assert (plain.n_image_features_out_, plain.n_text_features_out_) == (3, 4)
    # The array carries no names, so the next stage is told the split.
    model = make_pipeline(plain, GMMFeatureExtractor(plain.n_image_features_out_, random_state=0,
                                                     **FAST)).fit(frame, y)
    assert model.transform(frame).shape == (len(y), 2 * FAST["embedding_dim"])


def test_global_transform_output_is_honoured():
    import sklearn

    frame, y = captioned_frame()
    with sklearn.config_context(transform_output="pandas"):
        assert isinstance(text_pre().fit(frame, y).transform(frame), pd.DataFrame)
    # The global default leaves the transformer's own default: a DataFrame.
    assert isinstance(text_pre().fit(frame, y).transform(frame), pd.DataFrame)


# -- bad input: one clear error each ---------------------------------------------


def test_missing_column_is_named():
    frame, y = captioned_frame()
    with pytest.raises(ValueError, match=r"text_columns names \['title'\]"):
        ModalityTransformer(image_columns=PIXELS, text_columns="title").fit(frame, y)


def test_non_string_text_column_is_refused():
    frame, y = captioned_frame()
    frame.loc[5, "caption"] = np.nan
    with pytest.raises(TypeError, match="non-string values.*nan"):
        text_pre().fit(frame, y)


def test_sparse_output_needs_densify():
    frame, y = captioned_frame()
    pre = ModalityTransformer(image_columns=PIXELS, text_columns="caption", text=TfidfVectorizer())
    with pytest.raises(TypeError, match="sparse matrix.*densify=True"):
        pre.fit(frame, y)
    Z = pre.set_params(densify=True).fit_transform(frame, y)
    vocabulary = len(pre.transformers_["text"].vocabulary_)
    # txt__ball: the first word of the vocabulary.
    assert Z.shape == (len(y), 6 + vocabulary) and Z.columns[6] == "txt__ball"


def test_changed_width_at_transform_is_refused():
    rng = np.random.default_rng(0)
    pre = ModalityTransformer(image=PCA(2), n_image_features=3).fit(rng.normal(size=(20, 5)))
    with pytest.raises(ValueError, match="5 features"):
        pre.transform(rng.normal(size=(20, 6)))
    with pytest.raises(ValueError, match="image part has 4 column"):
        pre.transform_modality(rng.normal(size=(3, 4)), "image")


def test_unfitted_and_unsplittable_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(NotFittedError):
        ModalityTransformer(n_image_features=2).transform(rng.normal(size=(4, 3)))
    with pytest.raises(ValueError, match="Cannot tell where the image features end"):
        ModalityTransformer().fit(rng.normal(size=(4, 3)))
    with pytest.raises(TypeError, match="name DataFrame columns"):
        ModalityTransformer(text_columns="caption", n_image_features=2).fit(rng.normal(size=(4, 3)))
    frame, y = captioned_frame()
    with pytest.raises(ValueError, match="passthrough' and must be numeric"):
        ModalityTransformer(image_columns=PIXELS, text_columns=["caption"]).fit(frame, y)
    pre = text_pre().fit(frame, y)
    with pytest.raises(ValueError, match="modality must be"):
        pre.transform_modality(["a bus"], "audio")


def test_raw_captions_of_open_clip_art_retrieve_unseen_classes():
    from skgcrdp.baselines import RandomProjectionEmbedder
    from skgcrdp.datasets import load_openclipart
    from skgcrdp.metrics import cross_modal_retrieval_score

    data = load_openclipart()
    pixels = data.feature_names[: data.n_image_features]
    frame = pd.DataFrame(data.data[:, : data.n_image_features], columns=pixels)
    frame["caption"] = data.captions
    y = data.target
    seen, unseen = next(ClassDisjointSplit(1, random_state=0).split(frame, y))
    pre = ModalityTransformer(
        text=make_pipeline(TfidfVectorizer(sublinear_tf=True), TruncatedSVD(64, random_state=0)),
        image_columns=pixels, text_columns="caption")
    pipe = make_gcrdp_pipeline(preprocess=pre, random_state=0, device="cpu")
    pipe.fit(frame.iloc[seen], y[seen])
    paired = shared_space(pipe, frame.iloc[unseen])
    gcrdp = cross_modal_retrieval_score(paired, y[unseen])
    # Chance on the same episode: unrelated projections of the shipped features.
    chance_model = RandomProjectionEmbedder(data.n_image_features, n_components=10, random_state=0)
    chance = cross_modal_retrieval_score(
        chance_model.fit(data.data[seen]).transform(data.data[unseen]), y[unseen])
    assert gcrdp > 1.5 * chance, (gcrdp, chance)
    captions = frame["caption"].iloc[unseen[:20]].tolist()
    half = paired.shape[1] // 2
    np.testing.assert_allclose(embed_modality(pipe, captions, "text"), paired[:20, half:],
                               rtol=1e-4, atol=1e-5)


def test_a_bare_string_is_refused_as_a_vectorizer_would():
    frame, y = captioned_frame()
    pre = text_pre().fit(frame, y)
    with pytest.raises(ValueError, match="Iterable over text inputs expected, str object"):
        pre.transform_modality("a blue bus", "text")
    assert pre.transform_modality(["a blue bus"], "text").shape == (1, 4)
