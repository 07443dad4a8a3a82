"""Class-disjoint cross-validation for few-shot model selection."""

from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

__all__ = ["ClassDisjointSplit"]


class ClassDisjointSplit(BaseCrossValidator):
    """Random splits whose test classes never appear in training.

    Each split draws ``test_size`` of the classes as *unseen*: all their
    pairs form the test fold, and the remaining (*seen*) classes form the
    training fold, optionally cut down to ``n_shots`` pairs per class. Tuning
    with such splits rewards what few-shot retrieval needs (generalising to
    new classes), where an ordinary ``StratifiedKFold`` rewards fitting the
    seen classes.

    Parameters
    ----------
    n_splits : int, default=5
        Number of splits.
    test_size : float or int, default=0.5
        Share of the classes (float in (0, 1)) or number of classes (int)
        held out per split. At least two test and two training classes are
        required.
    n_shots : int, default=None
        Pairs kept per seen class in the training fold; None keeps all. A
        class with fewer pairs keeps all it has.
    random_state : int, RandomState instance or None, default=None
        Seed of the class draws and shot sampling; an int gives the same
        splits at every call of :meth:`split`, and the same seen/unseen
        classes whatever ``n_shots`` is.

    Examples
    --------
    >>> import numpy as np
    >>> from skgcrdp.model_selection import ClassDisjointSplit
    >>> y = np.repeat([0, 1, 2, 3], 5)
    >>> cv = ClassDisjointSplit(n_splits=2, n_shots=2, random_state=0)
    >>> for train, test in cv.split(np.zeros((20, 2)), y):
    ...     print(np.unique(y[train]), np.unique(y[test]), len(train), len(test))
    [0 1] [2 3] 4 10
    [1 3] [0 2] 4 10
    """

    def __init__(self, n_splits=5, *, test_size=0.5, n_shots=None, random_state=None):
        self.n_splits = n_splits
        self.test_size = test_size
        self.n_shots = n_shots
        self.random_state = random_state

    def _n_test_classes(self, n_classes):
        size = self.test_size
        if isinstance(size, Real) and not isinstance(size, Integral):
            if not 0 < size < 1:
                raise ValueError(f"A float test_size must be in (0, 1), got {size}.")
            n_test = int(round(size * n_classes))
        else:
            n_test = int(size)
        if n_test < 2 or n_classes - n_test < 2:
            raise ValueError(
                f"y holds {n_classes} classes; test_size={size!r} leaves {n_test} test "
                f"and {n_classes - n_test} training classes, but retrieval needs at "
                "least 2 of each."
            )
        return n_test

    def split(self, X, y, groups=None):
        """Generate indices of class-disjoint training and test folds.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its length is used.
        y : array-like of shape (n_samples,)
            Class labels; required.
        groups : None
            Ignored.

        Yields
        ------
        train : ndarray
            Indices of the seen-class pairs (``n_shots`` per class if set).
        test : ndarray
            Indices of all pairs of the unseen classes.
        """
        if y is None:
            raise ValueError("ClassDisjointSplit needs y: the folds are drawn by class.")
        if isinstance(self.n_splits, bool) or not isinstance(self.n_splits, Integral) or self.n_splits < 1:
            raise ValueError(f"n_splits must be a positive integer, got {self.n_splits!r}.")
        if self.n_shots is not None and (not isinstance(self.n_shots, Integral) or self.n_shots < 1):
            raise ValueError(f"n_shots must be a positive integer or None, got {self.n_shots!r}.")
        y = column_or_1d(y)
        if X is not None and len(X) != y.shape[0]:
            raise ValueError(f"X has {len(X)} rows but y has {y.shape[0]}.")
        classes = np.unique(y)
        n_test = self._n_test_classes(classes.size)
        rng = check_random_state(self.random_state)
        # All class draws come before any shot sampling, so that the same
        # random_state gives the same seen/unseen classes for every n_shots.
        permutations = [rng.permutation(classes) for _ in range(self.n_splits)]
        for permuted in permutations:
            test_classes, train_classes = permuted[:n_test], permuted[n_test:]
            test = np.flatnonzero(np.isin(y, test_classes))
            train = []
            for c in np.sort(train_classes):
                members = np.flatnonzero(y == c)
                if self.n_shots is not None and members.size > self.n_shots:
                    members = np.sort(rng.choice(members, self.n_shots, replace=False))
                train.append(members)
            yield np.sort(np.concatenate(train)), test

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits, ``n_splits``."""
        return self.n_splits
