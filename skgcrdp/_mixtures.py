"""Gaussian mixtures of every class at once: one batched EM in torch, on the training device.

The extractor models each class of each modality by a small mixture (a few
components per class). Fitting them as one scikit-learn ``GaussianMixture``
per class costs a Python loop over the classes at every refit, on the CPU,
after moving the embeddings there; with a thousand classes that loop was most
of the extractor's fit. Here the components of all classes sit in one padded
``(classes, components, features)`` layout and every EM step is a few tensor
operations over all samples, each sample scored against its own class's
components only.

The EM follows scikit-learn's ``GaussianMixture`` (diagonal or spherical
covariances, ``reg_covar`` added to every variance, ``tol`` on the change of
the mean log-likelihood, warm starts), with one difference in the start: the
components begin at a k-means of each class seeded by k-means++, run for all
classes at once, where scikit-learn runs ``KMeans`` class by class. The
mixtures it converges to are the same up to component order (a test
compares them with scikit-learn's on data where both converge).
"""

import math

import torch

__all__ = ["ClassMixtures", "n_components_for"]

# A component needs a few samples behind it; a class with fewer than this many
# samples per requested component gets fewer components.
MIN_SAMPLES_PER_COMPONENT = 4
# Rows per block of the E-step: bounds the (rows, components, features)
# temporaries whatever the number of samples.
BLOCK_ROWS = 65536
# Lloyd iterations of the k-means start.
KMEANS_ITERATIONS = 10


def _blocks(n_rows):
    return [slice(start, start + BLOCK_ROWS) for start in range(0, n_rows, BLOCK_ROWS)]


def n_components_for(n_samples, n_components_per_class):
    """Components that a class with ``n_samples`` samples can support (at least 1)."""
    return torch.clamp(torch.as_tensor(n_samples) // MIN_SAMPLES_PER_COMPONENT, 1,
                       n_components_per_class)


class ClassMixtures:
    """A diagonal (or spherical) Gaussian mixture for every class, fitted together.

    Parameters
    ----------
    labels : Tensor of shape (n_samples,)
        Class index (0 to ``n_classes - 1``) of every sample the mixtures
        will be fitted on; every class must have a sample.
    n_components_per_class : int
        Components of a class with at least ``4 * n_components_per_class``
        samples; fewer for smaller classes (one per 4 samples, at least 1).
    covariance_type : {"diag", "spherical"}
    reg_covar : float
        Added to every variance.
    max_iter : int
        EM iterations per :meth:`fit`, at most.
    tol : float, default=1e-3
        EM stops when the mean log-likelihood of every class changes by less.
    seed : int, default=0
        Seeds the k-means++ start.

    Attributes
    ----------
    means_, variances_ : Tensor of shape (n_classes, max_components, n_features)
        Per class, its components' means and variances (the variance
        repeated over the features for ``"spherical"``); padding where a
        class has fewer components.
    weights_ : Tensor of shape (n_classes, max_components)
        Mixing weights within each class (1 for padding, which is never scored).
    valid_ : Tensor of shape (n_classes, max_components), bool
        Which components exist.
    lower_bound_ : Tensor of shape (n_classes,)
        Mean log-likelihood of each class's samples after the last EM step.
    n_iter_ : int
        EM iterations of the last :meth:`fit`.
    """

    def __init__(self, labels, n_components_per_class, covariance_type="diag", reg_covar=1e-3,
                 max_iter=20, tol=1e-3, seed=0):
        self.labels = labels.long()
        self.n_classes = int(self.labels.max()) + 1
        self.counts = torch.bincount(self.labels, minlength=self.n_classes)
        self.n_components = n_components_for(self.counts, n_components_per_class)
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        k = int(self.n_components.max())
        self.valid_ = torch.arange(k, device=labels.device) < self.n_components[:, None]
        self.means_ = None

    # -- the start: a k-means of every class, seeded by k-means++ ---------------

    def _first_of_each_class(self, keys):
        """Per class, the sample of smallest ``key``."""
        order = torch.argsort(keys)
        order = order[torch.argsort(self.labels[order], stable=True)]
        starts = torch.cumsum(self.counts, 0) - self.counts
        return order[starts]

    def _kmeans(self, Z, generator):
        n_classes, k = self.valid_.shape
        dtype = Z.dtype
        # k-means++: the first center uniformly, each next one with probability
        # proportional to the squared distance to the nearest chosen center; an
        # exponential race draws one sample per class in one go.
        race = -torch.log(torch.rand(len(Z), generator=generator, device=Z.device, dtype=dtype))
        centers = Z[self._first_of_each_class(race)]
        centers = centers[:, None, :].repeat(1, k, 1)
        nearest = ((Z - centers[self.labels, 0]) ** 2).sum(1)
        for j in range(1, k):
            race = -torch.log(torch.rand(len(Z), generator=generator, device=Z.device, dtype=dtype))
            # Identical points (distance 0) lose every race but the last.
            pick = self._first_of_each_class(race / (nearest + 1e-12))
            centers[:, j] = Z[pick]
            nearest = torch.minimum(nearest, ((Z - centers[self.labels, j]) ** 2).sum(1))
        # Lloyd iterations, every class at once; a cluster left empty keeps its center.
        for _ in range(KMEANS_ITERATIONS):
            assign = self._nearest(Z, centers)
            flat = self.labels * k + assign
            sums = torch.zeros(n_classes * k, Z.shape[1], device=Z.device, dtype=dtype)
            sums.index_add_(0, flat, Z)
            sizes = torch.bincount(flat, minlength=n_classes * k).to(dtype)
            moved = sums / sizes.clamp(min=1)[:, None]
            centers = torch.where(sizes[:, None] > 0, moved, centers.reshape(n_classes * k, -1))
            centers = centers.reshape(n_classes, k, -1)
        return torch.nn.functional.one_hot(self._nearest(Z, centers), k).to(dtype)

    def _nearest(self, Z, centers):
        """Index of the nearest of its class's centers, for every row."""
        nearest = torch.empty(len(Z), dtype=torch.long, device=Z.device)
        for rows in _blocks(len(Z)):
            labels = self.labels[rows]
            distance = ((Z[rows][:, None, :] - centers[labels]) ** 2).sum(2)
            nearest[rows] = distance.masked_fill(~self.valid_[labels], math.inf).argmin(1)
        return nearest

    # -- EM ---------------------------------------------------------------------

    def _log_prob(self, Z, labels, log_det, log_weights):
        """``log pi_k + log N(z | mu_k, Sigma_k)`` of each row against its class's components.

        ``log_det`` and ``log_weights`` are per component, computed once for
        all rows, not once per row.
        """
        squared = ((Z[:, None, :] - self.means_[labels]) ** 2 / self.variances_[labels]).sum(2)
        log_prob = -0.5 * (squared + log_det[labels] + Z.shape[1] * math.log(2 * math.pi))
        log_prob = log_prob + log_weights[labels]
        return log_prob.masked_fill(~self.valid_[labels], -math.inf)

    def _statistics(self, Z, all_labels, resp=None):
        """Per component: responsibility sums, weighted sums of z and z**2; per class: log-likelihood.

        ``Z`` holds all rows of some classes (``all_labels`` theirs); the
        log-likelihood of a class is the mean over its rows.
        """
        n_classes, k = self.valid_.shape
        dtype = Z.dtype
        weight = torch.zeros(n_classes * k, device=Z.device, dtype=dtype)
        first = torch.zeros(n_classes * k, Z.shape[1], device=Z.device, dtype=dtype)
        second = torch.zeros_like(first)
        log_likelihood = torch.zeros(n_classes, device=Z.device, dtype=dtype)
        if resp is None:
            log_det, log_weights = torch.log(self.variances_).sum(2), torch.log(self.weights_)
        for rows in _blocks(len(Z)):
            z, labels = Z[rows], all_labels[rows]
            if resp is None:
                log_prob = self._log_prob(z, labels, log_det, log_weights)
                norm = torch.logsumexp(log_prob, dim=1)
                log_likelihood.index_add_(0, labels, norm)
                r = torch.exp(log_prob - norm[:, None])
            else:
                r = resp[rows]
            flat = (labels[:, None] * k + torch.arange(k, device=Z.device)).reshape(-1)
            r_flat = r.reshape(-1)
            weight.index_add_(0, flat, r_flat)
            first.index_add_(0, flat, (r[:, :, None] * z[:, None, :]).reshape(-1, Z.shape[1]))
            second.index_add_(0, flat, (r[:, :, None] * (z * z)[:, None, :]).reshape(-1, Z.shape[1]))
        shape = (n_classes, k)
        return (weight.reshape(shape), first.reshape(*shape, -1), second.reshape(*shape, -1),
                log_likelihood / self.counts.to(dtype))

    def _m_step(self, weight, first, second, update=None):
        """New parameters from the statistics, for the classes in ``update`` (all for None)."""
        tiny = 10 * torch.finfo(weight.dtype).eps
        weight = weight + tiny
        means = first / weight[:, :, None]
        # E[z**2] - mean**2, as scikit-learn computes it; rounding can make it
        # slightly negative for a component on identical points.
        variances = (second / weight[:, :, None] - means**2).clamp(min=0) + self.reg_covar
        if self.covariance_type == "spherical":
            variances = variances.mean(2, keepdim=True).expand_as(variances).clone()
        weights = weight / self.counts.to(weight.dtype)[:, None]
        # Padding: a harmless unit component, never scored (its log-probability is masked).
        means = torch.where(self.valid_[:, :, None], means, torch.zeros_like(means))
        variances = torch.where(self.valid_[:, :, None], variances, torch.ones_like(variances))
        weights = torch.where(self.valid_, weights, torch.ones_like(weights))
        if update is not None:
            means = torch.where(update[:, None, None], means, self.means_)
            variances = torch.where(update[:, None, None], variances, self.variances_)
            weights = torch.where(update[:, None], weights, self.weights_)
        self.means_, self.variances_, self.weights_ = means, variances, weights

    def fit(self, Z):
        """Run EM on ``Z`` (one row per sample of ``labels``), from the last fit if there is one.

        Parameters
        ----------
        Z : Tensor of shape (n_samples, n_features)

        Returns
        -------
        self : ClassMixtures
        """
        if self.means_ is None:
            generator = torch.Generator(device=Z.device).manual_seed(self.seed)
            resp = self._kmeans(Z, generator)
            self._m_step(*self._statistics(Z, self.labels, resp=resp)[:3])
        # As scikit-learn fits each class's mixture on its own, a class stops
        # when it has converged; the next iterations see only the rows of the
        # classes still moving.
        active = torch.ones(self.n_classes, dtype=torch.bool, device=Z.device)
        previous = torch.full((self.n_classes,), -math.inf, device=Z.device, dtype=Z.dtype)
        self.lower_bound_ = previous.clone()
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            if bool(active.all()):
                rows_Z, rows_labels = Z, self.labels
            else:
                rows = active[self.labels].nonzero().squeeze(1)
                rows_Z, rows_labels = Z[rows], self.labels[rows]
            weight, first, second, lower_bound = self._statistics(rows_Z, rows_labels)
            self._m_step(weight, first, second, update=active)
            self.lower_bound_ = torch.where(active, lower_bound, self.lower_bound_)
            self.n_iter_ += 1
            active = active & ((lower_bound - previous).abs() >= self.tol)
            previous = torch.where(active, lower_bound, previous)
            if not bool(active.any()):
                break
        return self

    # -- the mixtures as the loss takes them: one row per component -------------

    @property
    def component_labels(self):
        """Class index of each component, classes in order."""
        classes = torch.arange(self.n_classes, device=self.valid_.device)
        return classes[:, None].expand_as(self.valid_)[self.valid_]

    def flat(self):
        """``(means, variances, weights)`` of the components, one row each, classes in order."""
        return self.means_[self.valid_], self.variances_[self.valid_], self.weights_[self.valid_]
