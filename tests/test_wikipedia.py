"""GCRDP on the real Wikipedia benchmark, against baselines fitted in the same test."""

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from skgcrdp import make_gcrdp_pipeline
from skgcrdp.metrics import cross_modal_retrieval_score
from skgcrdp.model_selection import ClassDisjointSplit

N_IMAGE = 128


def random_projection_score(X_train, X_test, y_test, width, seed):
    """Chance level: each standardised modality through its own Gaussian matrix."""
    rng = np.random.RandomState(seed)
    halves = []
    for block in (slice(0, N_IMAGE), slice(N_IMAGE, None)):
        scaler = StandardScaler().fit(X_train[:, block])
        X = scaler.transform(X_test[:, block])
        halves.append(X @ rng.randn(X.shape[1], width))
    return cross_modal_retrieval_score(np.hstack(halves), y_test)


def test_unseen_class_map_beats_random_projection(wikipedia):
    X, y = wikipedia
    cv = ClassDisjointSplit(n_splits=3, test_size=0.5, random_state=0)
    gcrdp, chance = [], []
    for seed, (seen, unseen) in enumerate(cv.split(X, y)):
        model = make_gcrdp_pipeline(N_IMAGE, random_state=seed, device="cpu").fit(X[seen], y[seen])
        width = model.named_steps["align"].n_output_features_
        gcrdp.append(model.score(X[unseen], y[unseen]))
        chance.append(random_projection_score(X[seen], X[unseen], y[unseen], width, seed))
    gcrdp, chance = np.array(gcrdp), np.array(chance)
    assert np.all(gcrdp > chance), (gcrdp, chance)
    assert gcrdp.mean() > chance.mean() + 0.03, (gcrdp, chance)


@pytest.mark.slow
def test_unseen_class_map_five_shots(wikipedia):
    X, y = wikipedia
    cv = ClassDisjointSplit(n_splits=5, test_size=0.5, n_shots=5, random_state=0)
    gcrdp, chance = [], []
    for seed, (seen, unseen) in enumerate(cv.split(X, y)):
        model = make_gcrdp_pipeline(N_IMAGE, random_state=seed, device="cpu").fit(X[seen], y[seen])
        gcrdp.append(model.score(X[unseen], y[unseen]))
        chance.append(random_projection_score(X[seen], X[unseen], y[unseen], 64, seed))
    assert np.mean(gcrdp) > np.mean(chance)
