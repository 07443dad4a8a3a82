"""GCRDP on the real Wikipedia benchmark, against baselines fitted in the same test."""

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSCanonical

from skgcrdp import make_gcrdp_pipeline
from skgcrdp.baselines import CrossDecompositionEmbedder, RandomProjectionEmbedder
from skgcrdp.metrics import cross_modal_retrieval_score
from skgcrdp.model_selection import ClassDisjointSplit

N_IMAGE = 128


def unseen_score(embedder, X, y, seen, unseen):
    return cross_modal_retrieval_score(embedder.fit(X[seen], y[seen]).transform(X[unseen]), y[unseen])


def test_unseen_class_map_beats_random_projection(wikipedia):
    X, y = wikipedia
    cv = ClassDisjointSplit(n_splits=3, test_size=0.5, random_state=0)
    gcrdp, chance = [], []
    for seed, (seen, unseen) in enumerate(cv.split(X, y)):
        model = make_gcrdp_pipeline(N_IMAGE, random_state=seed, device="cpu").fit(X[seen], y[seen])
        width = model.named_steps["align"].embedding_dim_
        gcrdp.append(model.score(X[unseen], y[unseen]))
        chance.append(unseen_score(RandomProjectionEmbedder(N_IMAGE, width, random_state=seed),
                                   X, y, seen, unseen))
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
        chance.append(unseen_score(RandomProjectionEmbedder(N_IMAGE, 64, random_state=seed),
                                   X, y, seen, unseen))
    assert np.mean(gcrdp) > np.mean(chance)


def test_pls_baseline_is_well_above_chance_on_unseen_classes(wikipedia):
    """The linear baseline that GCRDP is measured against is itself a real one."""
    X, y = wikipedia
    cv = ClassDisjointSplit(n_splits=3, test_size=0.5, random_state=0)
    pls, chance = [], []
    for seed, (seen, unseen) in enumerate(cv.split(X, y)):
        pls.append(unseen_score(CrossDecompositionEmbedder(N_IMAGE, PLSCanonical(10)), X, y, seen, unseen))
        chance.append(unseen_score(RandomProjectionEmbedder(N_IMAGE, 10, random_state=seed),
                                   X, y, seen, unseen))
    assert np.mean(pls) > np.mean(chance) + 0.03
