"""The class mixtures the extractor refits: one batched EM over all classes, against scikit-learn's."""

import numpy as np
import pytest
import torch
from sklearn.mixture import GaussianMixture

from skgcrdp import _mixtures
from skgcrdp._mixtures import ClassMixtures


def _two_peaks_per_class(n_classes=6, d=8, per_peak=40, seed=0):
    rng = np.random.default_rng(seed)
    Z, y = [], []
    for c in range(n_classes):
        for spread in (0.3, 0.5):
            Z.append(rng.normal(size=d) * 3 + rng.normal(size=(per_peak, d)) * spread)
            y += [c] * per_peak
    return np.vstack(Z), np.array(y)


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_each_class_gets_scikit_learns_mixture_where_both_converge(covariance_type):
    Z, y = _two_peaks_per_class()
    ours = ClassMixtures(torch.as_tensor(y), 2, covariance_type, reg_covar=1e-3, max_iter=200,
                         tol=1e-8).fit(torch.as_tensor(Z))
    for c in np.unique(y):
        theirs = GaussianMixture(2, covariance_type=covariance_type, reg_covar=1e-3, max_iter=200,
                                 tol=1e-8, random_state=0).fit(Z[y == c])
        assert theirs.converged_
        # The same mean log-likelihood per sample (stated tolerance: 1e-6)...
        assert ours.lower_bound_[c].item() == pytest.approx(theirs.score(Z[y == c]), abs=1e-6)
        # ... and the same components, up to their order.
        order = np.argsort(theirs.means_[:, 0])
        mine = np.argsort(ours.means_[c, :, 0].numpy())
        np.testing.assert_allclose(ours.means_[c].numpy()[mine], theirs.means_[order], atol=1e-6)
        np.testing.assert_allclose(ours.weights_[c].numpy()[mine], theirs.weights_[order], atol=1e-6)
        variances = theirs.covariances_[order]
        if covariance_type == "spherical":
            variances = np.repeat(variances[:, None], Z.shape[1], axis=1)
        np.testing.assert_allclose(ours.variances_[c].numpy()[mine], variances, rtol=1e-5)


def test_degenerate_classes_one_pair_identical_points_and_small_classes():
    rng = np.random.default_rng(0)
    Z = np.vstack([rng.normal(size=(40, 4)),          # class 0: 2 components
                   np.full((9, 4), 2.0),              # class 1: identical points, 2 components
                   rng.normal(size=(1, 4)),           # class 2: one pair
                   rng.normal(size=(6, 4))])          # class 3: too few for 2 components
    y = np.repeat([0, 1, 2, 3], [40, 9, 1, 6])
    mixtures = ClassMixtures(torch.as_tensor(y), 2, "diag", reg_covar=1e-3).fit(torch.as_tensor(Z))
    assert mixtures.n_components.tolist() == [2, 2, 1, 1]
    means, variances, weights = (t.numpy() for t in mixtures.flat())
    labels = mixtures.component_labels.numpy()
    assert labels.tolist() == [0, 0, 1, 1, 2, 3]
    # Identical points: as with scikit-learn, one component takes them all, with the
    # regularisation as variance, and the other is left with no weight.
    on_points = (labels == 1) & (weights > 0.5)
    assert on_points.sum() == 1 and weights[labels == 1].min() < 1e-10
    np.testing.assert_allclose(means[on_points], 2.0)
    np.testing.assert_allclose(variances[labels == 1], 1e-3, rtol=1e-6)
    # One pair: its one component at the pair, weight 1.
    np.testing.assert_allclose(means[labels == 2], Z[y == 2])
    np.testing.assert_allclose(variances[labels == 2], 1e-3)
    assert weights[labels == 2] == pytest.approx(1.0)
    np.testing.assert_allclose(means[labels == 3], Z[y == 3].mean(0, keepdims=True), atol=1e-12)
    for c in range(4):
        assert weights[labels == c].sum() == pytest.approx(1.0)
    assert np.isfinite(mixtures.lower_bound_.numpy()).all()


def test_refits_start_from_the_last_fit(monkeypatch):
    Z, y = _two_peaks_per_class()
    mixtures = ClassMixtures(torch.as_tensor(y), 2, max_iter=100, tol=1e-6).fit(torch.as_tensor(Z))
    before = mixtures.means_.clone()

    def no_second_start(*args):
        raise AssertionError("a refit started again from k-means")

    monkeypatch.setattr(mixtures, "_kmeans", no_second_start)
    # The embeddings move a little between refits; the components follow.
    mixtures.fit(torch.as_tensor(Z + 0.01))
    torch.testing.assert_close(mixtures.means_, before + 0.01 * mixtures.valid_[:, :, None],
                               atol=1e-6, rtol=0)


def test_padding_of_class_groups_changes_nothing(monkeypatch):
    # Classes of 3 to 80 samples: in groups of similar size by default, all in
    # one group (padded to 80 samples) here; the fits must be the same.
    rng = np.random.default_rng(0)
    sizes = [3, 5, 9, 17, 40, 80]
    y = np.repeat(np.arange(len(sizes)), sizes)
    Z = rng.normal(size=(len(y), 4)) + 3 * rng.normal(size=(len(sizes), 4))[y]
    grouped = ClassMixtures(torch.as_tensor(y), 2, max_iter=5).fit(torch.as_tensor(Z))
    assert len(grouped.groups) == len(sizes)
    monkeypatch.setattr(_mixtures, "GROUP_SIZE_RATIO", 1000)
    together = ClassMixtures(torch.as_tensor(y), 2, max_iter=5).fit(torch.as_tensor(Z))
    assert len(together.groups) == 1
    for name in ("means_", "variances_", "weights_", "lower_bound_"):
        torch.testing.assert_close(getattr(grouped, name), getattr(together, name))


def test_padded_samples_cannot_overflow_a_concentrated_class():
    # Classes of 9 and 12 samples share a layout padded to 12 rows (of zeros);
    # concentrated at 0, their densities there exceed float32's range of exp.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [9, 12])
    Z = (rng.normal(size=(21, 32)) * 0.01).astype(np.float32)
    mixtures = ClassMixtures(torch.as_tensor(y), 1, "diag", reg_covar=1e-6).fit(torch.as_tensor(Z))
    assert len(mixtures.groups) == 1
    for c in (0, 1):
        theirs = GaussianMixture(1, covariance_type="diag", reg_covar=1e-6).fit(Z[y == c])
        assert mixtures.lower_bound_[c].item() == pytest.approx(theirs.score(Z[y == c]), rel=1e-4)
        np.testing.assert_allclose(mixtures.means_[c, 0].numpy(), theirs.means_[0], atol=1e-6)


def test_each_class_stops_where_scikit_learn_would_from_the_same_start():
    # Classes in two padded groups (16 to 24 and 40 to 60 samples), with
    # peaks more or less apart, converge after 2 to 8 EM steps under a loose
    # tolerance, still drifting: each must stop at its own convergence and
    # keep those parameters while the others of its group move on (computed
    # with them, or apart once few are left).
    rng = np.random.default_rng(1)
    sizes, gaps = [16, 18, 20, 24, 40, 50, 60], [2.0, 0.5, 0.5, 0.5, 2.0, 0.4, 0.6]
    Z, y = [], []
    for c, (size, gap) in enumerate(zip(sizes, gaps)):
        peaks = rng.normal(size=(2, 3)) * gap
        Z.append(peaks[np.arange(size) % 2] + rng.normal(size=(size, 3)))
        y += [c] * size
    Z, y = np.vstack(Z), np.array(y)
    ours = ClassMixtures(torch.as_tensor(y), 2, "diag", reg_covar=1e-3, max_iter=0, tol=1e-2)
    ours.fit(torch.as_tensor(Z))  # the k-means start only
    start = (ours.means_.clone(), ours.variances_.clone(), ours.weights_.clone())
    ours.max_iter = 200
    ours.fit(torch.as_tensor(Z))
    assert len(ours.groups) == 2
    steps = []
    for c in range(len(sizes)):
        means, variances, weights = (part[c].numpy() for part in start)
        theirs = GaussianMixture(2, covariance_type="diag", reg_covar=1e-3, max_iter=200, tol=1e-2,
                                 weights_init=weights, means_init=means,
                                 precisions_init=1 / variances).fit(Z[y == c])
        steps.append(theirs.n_iter_)
        np.testing.assert_allclose(ours.means_[c].numpy(), theirs.means_, atol=1e-8)
        np.testing.assert_allclose(ours.variances_[c].numpy(), theirs.covariances_, rtol=1e-8)
        np.testing.assert_allclose(ours.weights_[c].numpy(), theirs.weights_, atol=1e-8)
    assert len(set(steps)) > 2 and ours.n_iter_ == max(steps)
