"""SharedSpaceUnion: weighted side-by-side shared spaces, weights by class-disjoint CV."""

import numpy as np
import pandas as pd
import pytest

from skgcrdp import embed_modality, gcrdp_params, make_gcrdp_pipeline
from skgcrdp.baselines import CrossDecompositionEmbedder, RandomProjectionEmbedder
from skgcrdp.datasets import make_multimodal_classification
from skgcrdp.metrics import mean_average_precision
from skgcrdp.model_selection import ClassDisjointSplit
from skgcrdp.profiles import RelativeProfileEmbedder
from skgcrdp.union import SharedSpaceUnion, make_profile_union
from skgcrdp.utils import normalize_rows

PIPELINE_FAST = dict(extract__max_epochs=3, align__max_epochs=2, extract__hidden_dim=32,
                     extract__embedding_dim=8, device="cpu")


@pytest.fixture(scope="module")
def data():
    X, y = make_multimodal_classification(n_classes=8, n_pairs_per_class=40, random_state=0)
    return X, y, 20


def _cosines(Z):
    half = Z.shape[1] // 2
    return normalize_rows(Z[:, :half]) @ normalize_rows(Z[:, half:]).T


def _members(n_image):
    return [("pls", CrossDecompositionEmbedder(n_image)),
            ("profiles", RelativeProfileEmbedder(n_image, temperature=0.2))]


def test_union_cosine_is_the_weighted_sum_of_the_members_cosines(data):
    X, y, n_image = data
    union = SharedSpaceUnion(_members(n_image), weights={"profiles": 2.0}).fit(X, y)
    pls = CrossDecompositionEmbedder(n_image).fit(X, y).transform(X)
    profiles = RelativeProfileEmbedder(n_image, temperature=0.2).fit(X, y).transform(X)
    expected = (_cosines(pls) + 2.0 * _cosines(profiles)) / 3.0
    np.testing.assert_allclose(_cosines(union.transform(X)), expected, atol=1e-10)
    assert union.weights_ == {"pls": 1.0, "profiles": 2.0}
    assert union.cv_results_ is None


def test_a_member_of_weight_zero_is_left_out_and_not_fitted(data):
    X, y, n_image = data
    union = SharedSpaceUnion(_members(n_image), weights={"pls": 0}).fit(X, y)
    assert dict(union.transformers_)["pls"] == "drop"
    profiles = RelativeProfileEmbedder(n_image, temperature=0.2).fit(X, y).transform(X)
    assert union.transform(X).shape == profiles.shape
    np.testing.assert_allclose(_cosines(union.transform(X)), _cosines(profiles), atol=1e-10)
    np.testing.assert_allclose(union.transform_modality(X[:, :n_image], "image"),
                               union.transform(X)[:, : profiles.shape[1] // 2])
    assert union.n_features_in_ == X.shape[1]


def test_one_modality_alone_equals_its_half_of_the_paired_output(data):
    X, y, n_image = data
    union = SharedSpaceUnion(_members(n_image)).fit(X, y)
    Z = union.transform(X)
    half = Z.shape[1] // 2
    np.testing.assert_allclose(union.transform_modality(X[:, :n_image], "image"), Z[:, :half])
    np.testing.assert_allclose(embed_modality(union, X[:, n_image:], "text"), Z[:, half:])


def test_auto_gives_an_unrelated_member_no_say(data):
    """Independent random projections of the two modalities carry no cross-modal signal."""
    X, y, n_image = data
    union = SharedSpaceUnion(
        [("profiles", RelativeProfileEmbedder(n_image, temperature=0.2)),
         ("chance", RandomProjectionEmbedder(n_image, n_components=8, random_state=0))],
        weights="auto", cv=4, random_state=0,
    ).fit(X, y)
    assert union.weights_["chance"] == 0.0
    results = union.cv_results_
    assert results["split_scores"].shape == (4, 4)
    best = int(np.argmax(results["mean_score"]))
    assert results["weights"][best] == union.weights_
    # The chance member drags the held-out mAP down as its weight grows.
    assert results["mean_score"][0] > results["mean_score"][-1] + 0.05


def test_auto_scores_each_candidate_on_classes_its_members_were_not_fitted_on(data):
    """A split's score is the held-out classes' mAP of members fitted on the other classes."""
    X, y, n_image = data
    cv = ClassDisjointSplit(3, random_state=1)
    union = SharedSpaceUnion(_members(n_image), weights="auto", cv=cv).fit(X, y)
    results = union.cv_results_
    assert results["split_scores"].shape == (4, 3)
    assert [w["pls"] for w in results["weights"]] == [1.0] * 4
    fit_rows, val_rows = next(cv.split(X, y))
    assert not set(y[fit_rows]) & set(y[val_rows])
    pls = CrossDecompositionEmbedder(n_image).fit(X[fit_rows], y[fit_rows])
    profiles = RelativeProfileEmbedder(n_image, temperature=0.2).fit(X[fit_rows], y[fit_rows])
    scores = _cosines(pls.transform(X[val_rows])) + 0.5 * _cosines(profiles.transform(X[val_rows]))
    expected = 0.5 * (mean_average_precision(y[val_rows], y[val_rows], scores)
                      + mean_average_precision(y[val_rows], y[val_rows], scores.T))
    candidate = [w["profiles"] for w in results["weights"]].index(0.5)
    assert results["split_scores"][candidate, 0] == pytest.approx(expected, abs=1e-12)
    assert union.weights_ == results["weights"][int(np.argmax(results["mean_score"]))]


@pytest.mark.parametrize("kwargs, message", [
    (dict(weights={"nope": 1.0}), "unknown transformers"),
    (dict(weights={"profiles": -1.0}), ">= 0"),
    (dict(weights={"pls": 0, "profiles": 0}), "all 0"),
    (dict(weights="auto", weight_grid=()), "weight_grid"),
])
def test_bad_weights_are_refused(data, kwargs, message):
    X, y, n_image = data
    with pytest.raises(ValueError, match=message):
        SharedSpaceUnion(_members(n_image), **kwargs).fit(X, y)


def test_auto_says_when_too_few_classes_to_hold_half_out(data):
    X, y, n_image = data
    keep = y < 3
    with pytest.raises(ValueError, match='weights="auto" .* 1 training classes'):
        SharedSpaceUnion(_members(n_image), weights="auto").fit(X[keep], y[keep])


def test_empty_union_is_refused(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="empty"):
        SharedSpaceUnion([]).fit(X, y)


def test_pipeline_with_relative_profiles_routes_parameters(data):
    X, y, n_image = data
    pipe = make_gcrdp_pipeline(n_image, random_state=0, relative_profiles=0.5, **PIPELINE_FAST)
    assert [name for name, _ in pipe.steps] == ["embed", "retrieve"]
    assert pipe.get_params()["embed__gcrdp__extract__max_epochs"] == 3
    pipe.fit(X, y)
    assert pipe[0].weights_ == {"gcrdp": 1.0, "profiles": 0.5}
    assert pipe[0].transformers_[0][1]["extract"].n_epochs_ == 3
    Z = pipe[:-1].transform(X)
    half = Z.shape[1] // 2
    np.testing.assert_allclose(embed_modality(pipe, X[:, n_image:], "text"), Z[:, half:])
    assert 0 < pipe.score(X, y) <= 1


@pytest.mark.parametrize("weight", ["sometimes", True, -1.0, float("inf"), float("nan")])
def test_pipeline_refuses_a_bad_profile_weight(weight):
    with pytest.raises(ValueError, match="relative_profiles must be"):
        make_gcrdp_pipeline(20, relative_profiles=weight)


def test_gcrdp_params_address_the_stages_whatever_the_flags(data):
    X, y, n_image = data
    short = {"extract__max_epochs": 2, "align__max_epochs": 1, "retrieve__n_neighbors": 3}
    for profiles in (None, 0.5):
        pipe = make_gcrdp_pipeline(n_image, random_state=0, relative_profiles=profiles)
        pipe.set_params(**gcrdp_params(pipe, short))
        extractor = pipe.named_steps["extract"] if profiles is None else \
            pipe.named_steps["embed"].transformer_list[0][1].named_steps["extract"]
        assert extractor.max_epochs == 2
        assert pipe.named_steps["retrieve"].n_neighbors == 3
    union_only = gcrdp_params(make_gcrdp_pipeline(n_image, relative_profiles=1.0),
                              {"profiles__max_anchors": [16, 32]})
    assert union_only == {"embed__profiles__max_anchors": [16, 32]}


def test_make_profile_union_puts_any_member_beside_the_profiles(data):
    X, y, n_image = data
    union = make_profile_union("pls", CrossDecompositionEmbedder(n_image), n_image, weight=2.0,
                               random_state=0).fit(X, y)
    assert union.weights_ == {"pls": 1.0, "profiles": 2.0}
    with pytest.raises(ValueError, match="weight must be"):
        make_profile_union("pls", CrossDecompositionEmbedder(n_image), weight=-1)


def test_profiles_cap_their_anchors(data):
    X, y, n_image = data
    Z = RelativeProfileEmbedder(n_image, max_anchors=50, random_state=0).fit(X, y).transform(X)
    assert Z.shape == (len(X), 100)


def test_auto_keeps_the_column_names_that_carry_the_modality_split(data):
    """A DataFrame with img__/txt__ columns reaches every inner fit with its names."""
    X, y, n_image = data
    columns = [f"img__{i}" for i in range(n_image)] + [f"txt__{i}" for i in range(X.shape[1] - n_image)]
    frame = pd.DataFrame(X, columns=columns)
    union = SharedSpaceUnion(
        [("pls", CrossDecompositionEmbedder()), ("profiles", RelativeProfileEmbedder(temperature=0.2))],
        weights="auto", cv=3, random_state=0,
    ).fit(frame, y)
    reference = SharedSpaceUnion(_members(n_image), weights="auto", cv=3, random_state=0).fit(X, y)
    assert union.weights_ == reference.weights_
    np.testing.assert_allclose(union.transform(frame), reference.transform(X))


def test_pipeline_with_preprocessing_and_relative_profiles(data):
    from sklearn.decomposition import PCA

    from skgcrdp import ModalityTransformer

    X, y, n_image = data
    pre = ModalityTransformer(image=PCA(6), text=PCA(6), n_image_features=n_image)
    pipe = make_gcrdp_pipeline(preprocess=pre, random_state=0, relative_profiles="auto", **PIPELINE_FAST)
    pipe.fit(X, y)
    assert [name for name, _ in pipe.steps] == ["pre", "embed", "retrieve"]
    Z = pipe[:-1].transform(X)
    np.testing.assert_allclose(embed_modality(pipe, X[:, :n_image], "image"), Z[:, : Z.shape[1] // 2])
