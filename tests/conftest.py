import numpy as np
import pytest
import torch

from skgcrdp.datasets import load_wikipedia, make_multimodal_classification

# Two cores: one torch thread per process keeps parallel fits from fighting.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def synthetic():
    """Small multi-peak paired data: X, y and the image width."""
    X, y = make_multimodal_classification(n_classes=6, n_pairs_per_class=30, random_state=0)
    return X, y, 20


@pytest.fixture(scope="session")
def wikipedia():
    X, y = load_wikipedia(return_X_y=True)
    return X, y


# Short training for behaviour tests; real training lengths live in the
# real-data tests.
FAST = dict(max_epochs=3, hidden_dim=32, embedding_dim=8, batch_size=64)


@pytest.fixture
def rng():
    return np.random.RandomState(0)
