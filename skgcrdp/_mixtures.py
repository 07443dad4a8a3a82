"""Gaussian mixtures of every class at once: one batched EM in torch, on the training device.

The extractor models each class of each modality by a small mixture (a few
components per class). Fitting them as one scikit-learn ``GaussianMixture``
per class costs a Python loop over the classes at every refit, on the CPU,
after moving the embeddings there; with a thousand classes that loop was most
of the extractor's fit. Here the samples of the classes are laid out as one
``(classes, samples, features)`` array per group of classes of similar size
(padded to the largest class of the group, so padding at most doubles a
group), and every EM step is a few batched matrix products per group: each
sample is scored against its own class's components only.

The EM follows scikit-learn's ``GaussianMixture`` (diagonal or spherical
covariances, ``reg_covar`` added to every variance, ``tol`` on the change of
the mean log-likelihood, warm starts, the log-densities in the same expanded
form), with one difference in the start: the components begin at a k-means of
each class seeded by k-means++, run for all classes at once, where
scikit-learn runs ``KMeans`` class by class. The mixtures it converges to are
the same up to component order (a test compares them with scikit-learn's on
data where both converge).
"""

import math

import torch

__all__ = ["ClassMixtures", "n_components_for"]

# A component needs a few samples behind it; a class with fewer than this many
# samples per requested component gets fewer components.
MIN_SAMPLES_PER_COMPONENT = 4
# Lloyd iterations of the k-means start.
KMEANS_ITERATIONS = 10
# Classes share a padded layout when their sizes lie within this factor.
GROUP_SIZE_RATIO = 2


def n_components_for(n_samples, n_components_per_class):
    """Components that a class with ``n_samples`` samples can support (at least 1)."""
    return torch.clamp(torch.as_tensor(n_samples) // MIN_SAMPLES_PER_COMPONENT, 1,
                       n_components_per_class)


class _ClassGroup:
    """Classes of similar size, their samples padded to ``(classes, width)`` row indices.

    Parameters
    ----------
    classes : Tensor of shape (n_classes,)
        The classes of the group.
    rows : Tensor of shape (n_classes, width)
        Row of each of a class's samples, 0 in the padding.
    present : Tensor of shape (n_classes, width), bool
        Which entries of ``rows`` are samples.
    """

    def __init__(self, classes, rows, present):
        self.classes = classes
        self.rows = rows
        self.present = present

    def subset(self, keep):
        """The group of the classes at positions ``keep`` only."""
        return _ClassGroup(self.classes[keep], self.rows[keep], self.present[keep])

    def gather(self, values):
        """Per-row ``values`` in the group's layout, 0 where there is no sample."""
        out = values[self.rows]
        mask = self.present.reshape(self.present.shape + (1,) * (out.dim() - 2))
        return out.masked_fill(~mask, 0)

    def first_by(self, keys, z):
        """Per class, the sample (row of ``z``, in the layout) of smallest key."""
        pick = keys.masked_fill(~self.present, math.inf).argmin(1)
        return z[torch.arange(len(z), device=z.device), pick]


def _class_groups(labels, counts):
    """The classes in groups of sizes within ``GROUP_SIZE_RATIO``, each with its padded rows."""
    order = torch.argsort(labels, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    size_class = torch.floor(torch.log(counts.double()) / math.log(GROUP_SIZE_RATIO)).long()
    groups = []
    for key in torch.unique(size_class).tolist():
        classes = torch.nonzero(size_class == key).squeeze(1)
        sizes = counts[classes]
        slots = torch.arange(int(sizes.max()), device=labels.device)
        present = slots < sizes[:, None]
        index = torch.where(present, starts[classes][:, None] + slots, 0)
        groups.append(_ClassGroup(classes, order[index], present))
    return groups


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
        self.groups = _class_groups(self.labels, self.counts)
        self.means_ = None

    # -- the start: a k-means of every class, seeded by k-means++ ---------------

    def _kmeans(self, layouts, generator):
        """One-hot assignments to each class's k-means clusters, per group."""
        k = self.valid_.shape[1]
        n_samples = len(self.labels)
        dtype, device = layouts[0][0].dtype, layouts[0][0].device
        # k-means++: the first center uniformly, each next one with probability
        # proportional to the squared distance to the nearest chosen center; an
        # exponential race per sample draws one sample per class in one go.
        races = [-torch.log(torch.rand(n_samples, generator=generator, device=device, dtype=dtype))
                 for _ in range(k)]
        assignments = []
        for group, (z, _) in zip(self.groups, layouts):
            valid = self.valid_[group.classes]
            centers = [group.first_by(group.gather(races[0]), z)]
            nearest = ((z - centers[0][:, None, :]) ** 2).sum(2)
            for j in range(1, k):
                # Identical points (distance 0) lose every race but the last.
                centers.append(group.first_by(group.gather(races[j]) / (nearest + 1e-12), z))
                nearest = torch.minimum(nearest, ((z - centers[j][:, None, :]) ** 2).sum(2))
            centers = torch.stack(centers, dim=1)
            # Lloyd iterations, every class of the group at once; a cluster
            # left empty keeps its center. Once no sample changes cluster the
            # centers stay where they are, and so would every later assignment.
            one_hot = None
            for _ in range(KMEANS_ITERATIONS):
                previous, one_hot = one_hot, self._nearest(z, centers, valid, group.present)
                if previous is not None and torch.equal(one_hot, previous):
                    break
                sizes = one_hot.sum(1)
                moved = one_hot.transpose(1, 2) @ z / sizes.clamp(min=1)[:, :, None]
                centers = torch.where(sizes[:, :, None] > 0, moved, centers)
            else:
                one_hot = self._nearest(z, centers, valid, group.present)
            assignments.append(one_hot)
        return assignments

    @staticmethod
    def _nearest(z, centers, valid, present):
        """One-hot of the nearest of its class's centers, for every sample (0 for padding)."""
        distance = (centers**2).sum(2)[:, None, :] - 2 * z @ centers.transpose(1, 2)
        nearest = distance.masked_fill(~valid[:, None, :], math.inf).argmin(2)
        one_hot = torch.nn.functional.one_hot(nearest, valid.shape[1]).to(z.dtype)
        return one_hot.masked_fill(~present[:, :, None], 0)

    # -- EM ---------------------------------------------------------------------

    def _log_prob(self, group, z, z_squared):
        """``log pi_k + log N(z | mu_k, Sigma_k)`` of each sample against its class's components.

        The squared Mahalanobis distance is expanded as scikit-learn expands
        it, into batched products of the samples with the components.
        """
        means = self.means_[group.classes]
        variances = self.variances_[group.classes]
        precisions = 1.0 / variances
        constant = ((means**2 * precisions).sum(2) + torch.log(variances).sum(2)
                    + means.shape[2] * math.log(2 * math.pi))
        squared = (z_squared @ precisions.transpose(1, 2)
                   - 2 * z @ (means * precisions).transpose(1, 2))
        log_prob = -0.5 * (squared + constant[:, None, :])
        log_prob = log_prob + torch.log(self.weights_[group.classes])[:, None, :]
        return log_prob.masked_fill(~self.valid_[group.classes][:, None, :], -math.inf)

    def _m_step(self, classes, weight, first, second, update=None):
        """The M-step of ``classes`` from their statistics; only those in ``update`` change (all for None).

        Only the classes a step computed are touched: once few classes still
        move, a step costs what they cost.
        """
        valid = self.valid_[classes]
        tiny = 10 * torch.finfo(weight.dtype).eps
        weight = weight + tiny
        means = first / weight[:, :, None]
        # E[z**2] - mean**2, as scikit-learn computes it; rounding can make it
        # slightly negative for a component on identical points.
        variances = (second / weight[:, :, None] - means**2).clamp(min=0) + self.reg_covar
        if self.covariance_type == "spherical":
            variances = variances.mean(2, keepdim=True).expand_as(variances).clone()
        weights = weight / self.counts[classes].to(weight.dtype)[:, None]
        # Padding: a harmless unit component, never scored (its log-probability is masked).
        means = torch.where(valid[:, :, None], means, torch.zeros_like(means))
        variances = torch.where(valid[:, :, None], variances, torch.ones_like(variances))
        weights = torch.where(valid, weights, torch.ones_like(weights))
        if self.means_ is None:
            shape = self.valid_.shape
            self.means_ = means.new_empty(shape + means.shape[2:])
            self.variances_ = torch.empty_like(self.means_)
            self.weights_ = weights.new_empty(shape)
        elif update is not None:
            means = torch.where(update[:, None, None], means, self.means_[classes])
            variances = torch.where(update[:, None, None], variances, self.variances_[classes])
            weights = torch.where(update[:, None], weights, self.weights_[classes])
        # New tensors, not written in place: a caller holding the last ``means_`` keeps it.
        self.means_ = self.means_.index_copy(0, classes, means)
        self.variances_ = self.variances_.index_copy(0, classes, variances)
        self.weights_ = self.weights_.index_copy(0, classes, weights)

    def _step(self, layouts, active, resp=None):
        """One EM step (or, with ``resp`` given per group, only its M-step) for the ``active`` classes.

        Returns the mean log-likelihood of each class under the parameters
        the step started from (-inf for classes not computed).
        """
        dtype, device = layouts[0][0].dtype, layouts[0][0].device
        log_likelihood = torch.full((self.n_classes,), -math.inf, device=device, dtype=dtype)
        statistics = []
        for index, (group, (z, z_squared)) in enumerate(zip(self.groups, layouts)):
            if active is not None and not bool(active[group.classes].all()):
                # Most classes converge in a few steps: the next steps see
                # only the samples of those still moving.
                keep = active[group.classes].nonzero().squeeze(1)
                if not len(keep):
                    continue
                # Copying their samples out pays once most classes have stopped;
                # until then the step computes them all and updates the moving.
                if 2 * len(keep) <= len(group.classes):
                    group, z, z_squared = group.subset(keep), z[keep], z_squared[keep]
            if resp is None:
                log_prob = self._log_prob(group, z, z_squared)
                norm = torch.logsumexp(log_prob, dim=2)
                r = torch.exp(log_prob - norm[:, :, None]).masked_fill(~group.present[:, :, None], 0)
                norm = norm.masked_fill(~group.present, 0.0)
                log_likelihood[group.classes] = norm.sum(1) / self.counts[group.classes].to(dtype)
            else:
                r = resp[index]
            # Per component: responsibility sums, weighted sums of z and z**2.
            statistics.append((group.classes, r.sum(1), r.transpose(1, 2) @ z,
                               r.transpose(1, 2) @ z_squared))
        if statistics:
            classes, weight, first, second = (torch.cat(part) for part in zip(*statistics))
            self._m_step(classes, weight, first, second,
                         update=None if active is None else active[classes])
        return log_likelihood

    def fit(self, Z):
        """Run EM on ``Z`` (one row per sample of ``labels``), from the last fit if there is one.

        Parameters
        ----------
        Z : Tensor of shape (n_samples, n_features)

        Returns
        -------
        self : ClassMixtures
        """
        layouts = []
        for group in self.groups:
            z = group.gather(Z)
            layouts.append((z, z * z))
        if self.means_ is None:
            generator = torch.Generator(device=Z.device).manual_seed(self.seed)
            self._step(layouts, None, resp=self._kmeans(layouts, generator))
        # As scikit-learn fits each class's mixture on its own, a class stops
        # when it has converged.
        active = torch.ones(self.n_classes, dtype=torch.bool, device=Z.device)
        previous = torch.full((self.n_classes,), -math.inf, device=Z.device, dtype=Z.dtype)
        self.lower_bound_ = previous.clone()
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            lower_bound = self._step(layouts, active)
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
