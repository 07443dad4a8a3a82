"""Losses of GCRDP in plain torch.

* :func:`multi_positive_contrastive_loss`: a supervised-contrastive InfoNCE
  over both modalities in which every anchor has several positives: the
  other samples of its class, in both modalities, and its class's GMM
  prototypes weighted by responsibilities.
* :func:`relative_distance_loss`: relative distance preservation (RDP); the
  arrangement of samples and class prototypes seen from one modality must
  match the arrangement seen from the other.
* :func:`dscmr_loss`: the three losses of DSCMR (Zhen et al., CVPR 2019), the
  baseline :class:`~skgcrdp.baselines.DSCMREmbedder` trains with.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "DSCMRLoss",
    "MultiPositiveContrastiveLoss",
    "RelativeDistanceLoss",
    "diagonal_gmm_responsibilities",
    "dscmr_loss",
    "multi_positive_contrastive_loss",
    "relative_distance_loss",
]


def diagonal_gmm_responsibilities(z, means, variances, weights, component_labels, labels):
    """E-step responsibilities restricted to each sample's own class.

    Parameters
    ----------
    z : Tensor of shape (n, d)
    means, variances : Tensor of shape (K, d)
        Diagonal Gaussian components of one modality.
    weights : Tensor of shape (K,)
        Mixing weights of each component within its class.
    component_labels : Tensor of shape (K,)
        Class of each component.
    labels : Tensor of shape (n,)
        Class of each sample.

    Returns
    -------
    resp : Tensor of shape (n, K)
        ``resp[i, k] = pi_k N(z_i | mu_k, Sigma_k) / sum_j pi_j N(z_i | mu_j, Sigma_j)``
        over the components ``j`` of sample ``i``'s class; zero elsewhere and
        for samples whose class has no component.
    """
    precision = 1.0 / variances
    # Squared Mahalanobis distances, expanded to avoid an (n, K, d) tensor.
    maha = (
        (z * z) @ precision.T
        - 2.0 * z @ (means * precision).T
        + (means * means * precision).sum(dim=1)
    )
    log_det = torch.log(variances).sum(dim=1)
    log_prob = -0.5 * (maha + log_det + z.shape[1] * math.log(2 * math.pi))
    log_prob = log_prob + torch.log(weights)
    same_class = labels[:, None] == component_labels[None, :]
    log_prob = log_prob.masked_fill(~same_class, float("-inf"))
    resp = torch.softmax(log_prob, dim=1)
    return torch.nan_to_num(resp, nan=0.0)


def multi_positive_contrastive_loss(
    z_image,
    z_text,
    labels,
    prototypes=None,
    prototype_labels=None,
    prototype_responsibilities=None,
    temperature=0.1,
    instance_weight=0.0,
    prototype_weight=0.5,
    prototype_mask=None,
):
    """Supervised contrastive loss across modalities with several positives.

    Every image and every text embedding of the batch is an anchor. Its
    candidates are all other embeddings of the batch (both modalities) and
    the prototypes; its positives are its partner in the other modality,
    the other samples of its class and its class's prototypes. The loss is
    the cross-entropy between a target distribution over the positives and
    the softmax over all candidates. The target gives:

    * ``instance_weight`` to the partner alone (instance-level alignment);
    * of the rest, ``prototype_weight`` to the prototypes (in proportion to
      the anchor's responsibilities) and the remainder, evenly, to the
      samples of its class (the partner included).

    With ``instance_weight=0`` and no prototypes this is SupCon across
    modalities; with ``instance_weight=1`` it is the instance-level NT-Xent.

    Parameters
    ----------
    z_image, z_text : Tensor of shape (n, d)
        L2-normalised embeddings of the n pairs of the batch.
    labels : Tensor of shape (n,)
        Integer class of each pair.
    prototypes : Tensor of shape (K, d), default=None
        Class prototypes (e.g. GMM component means of both modalities).
    prototype_labels : Tensor of shape (K,), default=None
        Class of each prototype; needed only without
        ``prototype_responsibilities``.
    prototype_responsibilities : Tensor of shape (n, K), default=None
        How much each prototype stands for each pair (E-step
        responsibilities, zero outside the pair's class); None weighs the
        prototypes of the pair's class equally.
    temperature : float, default=0.1
        Softmax temperature of the similarities.
    instance_weight : float in [0, 1], default=0.0
        Share of the target on each anchor's own partner.
    prototype_weight : float in [0, 1], default=0.5
        Share of the class-level target on the prototypes.
    prototype_mask : Tensor of shape (K,) or (n, K), bool, default=None
        Prototypes to leave out (False) of every anchor's softmax, or, one
        row per pair, of the softmax of the pair's image and text; the loss
        is that of the prototypes kept. None keeps all.

    Returns
    -------
    loss : scalar Tensor
    """
    n = z_image.shape[0]
    anchors = torch.cat([z_image, z_text])
    scaled = anchors / temperature
    if prototypes is None or prototypes.shape[0] == 0:
        return _contrastive_loss(anchors, scaled, labels, instance_weight, prototype_weight)
    logits = (scaled @ prototypes.T).view(2, n, -1)
    if prototype_responsibilities is None:
        prototype_responsibilities = labels[:, None] == prototype_labels[None, :]
    return _contrastive_loss(
        anchors, scaled, labels, instance_weight, prototype_weight,
        _prototype_terms(logits, prototype_responsibilities.to(logits.dtype), prototype_mask))


def _prototype_terms(logits, resp, mask=None):
    """What :func:`_contrastive_loss` takes of the prototypes, from the anchors' logits with them.

    ``logits`` (2, n, K) are the images' then the texts' logits with their
    K candidate prototypes, ``resp`` (n, K) each pair's responsibilities
    over them (an image and its partner text share their pair's) and
    ``mask`` ((K,) or (n, K), bool; None: all) the candidates; a prototype
    left out takes no responsibility.
    """
    candidates = logits
    if mask is not None:
        resp = resp * mask
        candidates = logits.masked_fill(~mask, float("-inf"))
    return (candidates.reshape(-1, logits.shape[2]), (logits * resp).sum(dim=2).view(-1),
            resp.sum(dim=1))


def _contrastive_loss(anchors, scaled, labels, instance_weight, prototype_weight, prototypes=None):
    """:func:`multi_positive_contrastive_loss` from its parts.

    ``anchors`` are the batch's images then texts, ``scaled`` the same over
    the temperature. ``prototypes``, if any, is ``(logits, positive, mass)``
    (:func:`_prototype_terms` makes it): every anchor's logits with its
    candidate prototypes (anchors, candidates; -inf for one left out), the
    logits of its pair's own prototypes summed with their responsibilities
    as weights (anchors,), and the sum of those responsibilities (pairs,).

    The target sums to 1 over every anchor's candidates, so the
    cross-entropy is the log of the softmax's normaliser less the
    target-weighted logits: no (anchors, candidates) array of targets or
    log-probabilities is made, and the prototypes, which may outnumber the
    batch, cost a product and a log-sum-exp.
    """
    n = anchors.shape[0] // 2
    rows = torch.arange(2 * n, device=anchors.device)
    itself = torch.eye(2 * n, dtype=torch.bool, device=anchors.device)
    logits = scaled @ anchors.T
    candidates = [logits.masked_fill(itself, float("-inf"))]
    positive = instance_weight * logits[rows, rows.roll(n)]
    class_share = 1 - instance_weight
    if prototypes is not None:
        prototype_logits, prototype_positive, prototype_mass = prototypes
        candidates.append(prototype_logits)
        share = prototype_weight * (prototype_mass > 0).to(scaled.dtype)
        positive = positive + class_share * prototype_positive * (
            share / prototype_mass.clamp_min(1e-12)).repeat(2)
        class_share = class_share * (1 - share).repeat(2)
    # The class's samples (the partner among them) share their part evenly:
    # the mean of an anchor's logits with them is its product with their sum,
    # the class's sum less itself, which costs no (anchors, anchors) mask.
    classes, inverse = torch.unique(labels, return_inverse=True)
    class_sums = anchors.new_zeros(len(classes), anchors.shape[1]).index_add_(
        0, inverse, anchors[:n] + anchors[n:])
    others = class_sums[inverse].repeat(2, 1) - anchors
    n_others = (2 * torch.bincount(inverse, minlength=len(classes)) - 1)[inverse].repeat(2)
    positive = positive + class_share * (scaled * others).sum(dim=1) / n_others
    return (_log_sum_exp(candidates) - positive).mean()


def _log_sum_exp(blocks):
    """Row-wise log-sum-exp over the columns of several ``(rows, columns)`` blocks.

    Shifted by the rows' maximum, held constant for the gradient (the value
    does not depend on it): torch's ``logsumexp`` computes the same value,
    but its backward pass took three times as long as this whole function on
    the CPU.
    """
    with torch.no_grad():
        shift = torch.stack([block.amax(dim=1) for block in blocks]).amax(dim=0)
        shift = shift.masked_fill(~torch.isfinite(shift), 0.0)
    total = sum(torch.exp(block - shift[:, None]).sum(dim=1) for block in blocks)
    return shift + torch.log(total)


def _off_diagonal(matrix):
    n = matrix.shape[0]
    keep = ~torch.eye(n, dtype=torch.bool, device=matrix.device)
    return matrix[keep].view(n, n - 1)


def _symmetric_kl(log_p, log_q):
    p, q = log_p.exp(), log_q.exp()
    return ((p - q) * (log_p - log_q)).sum(dim=1).mean()


def _class_means(z, labels):
    classes, inverse = torch.unique(labels, return_inverse=True)
    sums = torch.zeros(classes.shape[0], z.shape[1], dtype=z.dtype, device=z.device)
    sums.index_add_(0, inverse, z)
    counts = torch.bincount(inverse, minlength=classes.shape[0]).to(z.dtype)
    return sums / counts[:, None]


def relative_distance_loss(z_image, z_text, labels, temperature=0.1):
    """Relative distance preservation between the two modalities.

    Two terms, each a symmetric KL divergence between distance profiles
    turned into distributions by ``softmax(-D / temperature)``:

    * structure: each image's distances to the other images and to the image
      class prototypes must be distributed as its paired text's distances to
      the other texts and to the text class prototypes;
    * profile: each image's distances to the prototypes of the *other*
      modality must match its paired text's distances to them (and the other
      way round).

    The prototypes are the class means of the batch in each modality.

    Parameters
    ----------
    z_image, z_text : Tensor of shape (n, d)
        Embeddings of the n pairs of the batch.
    labels : Tensor of shape (n,)
        Integer class of each pair.
    temperature : float, default=0.1
        Temperature of the distance distributions.

    Returns
    -------
    loss : scalar Tensor
    """
    if z_image.shape[0] < 2:
        return z_image.sum() * 0.0
    protos_image = _class_means(z_image, labels)
    protos_text = _class_means(z_text, labels)

    def log_profile(a, b):
        return F.log_softmax(-torch.cdist(a, b).pow(2) / temperature, dim=1)

    def log_structure(z, protos):
        within = _off_diagonal(torch.cdist(z, z).pow(2))
        to_protos = torch.cdist(z, protos).pow(2)
        return F.log_softmax(-torch.cat([within, to_protos], dim=1) / temperature, dim=1)

    structure = _symmetric_kl(
        log_structure(z_image, protos_image), log_structure(z_text, protos_text)
    )
    profile = 0.5 * (
        _symmetric_kl(log_profile(z_image, protos_text), log_profile(z_text, protos_text))
        + _symmetric_kl(log_profile(z_text, protos_image), log_profile(z_image, protos_image))
    )
    return structure + profile


class MultiPositiveContrastiveLoss(nn.Module):
    """Criterion module of the GMM feature extractor.

    Holds the current diagonal mixtures of both modalities (set by
    :meth:`set_mixtures` whenever they are refitted) and, in ``forward``,
    computes the batch's responsibilities under them for
    :func:`multi_positive_contrastive_loss`. An anchor's candidate
    prototypes are its own class's, of both modalities: the loss is that
    function's with every other prototype masked out of the anchor's
    softmax. Prototypes of other classes would add negatives that the
    samples of those classes in the batch already are, at a cost that grows
    with the number of classes.

    Parameters
    ----------
    temperature : float, default=0.1
    instance_weight : float, default=0.0
    prototype_weight : float, default=0.5
        As in :func:`multi_positive_contrastive_loss`; with 0 the mixtures
        are not used.
    """

    def __init__(self, temperature=0.1, instance_weight=0.0, prototype_weight=0.5):
        super().__init__()
        self.temperature = temperature
        self.instance_weight = instance_weight
        self.prototype_weight = prototype_weight
        self.mixtures = None

    def set_mixtures(self, image, text, component_labels):
        """Store mixtures as ``(means, variances, weights)`` tensors per modality.

        What every batch needs of them is put together here, once per refit:
        the prototypes (unit-length means of both modalities) and, per class,
        a table of its components (image then text) with their means,
        precisions, log-normalisers and prototypes, so that a batch gathers
        its pairs' components by their class alone.
        """
        self.mixtures = {"image": image, "text": text, "labels": component_labels}
        self.prototypes = F.normalize(torch.cat([image[0], text[0]]), dim=1)
        n_components = len(component_labels)
        # Row c: the components of class c, padded with -1.
        n_labels = int(component_labels.max()) + 1 if n_components else 0
        counts = torch.bincount(component_labels, minlength=n_labels)
        first = torch.cumsum(counts, 0) - counts
        order = torch.argsort(component_labels, stable=True)
        width = int(counts.max()) if n_labels else 0
        components = torch.full((n_labels, width), -1, dtype=torch.long,
                                device=component_labels.device)
        slot = torch.arange(n_components, device=order.device) - first[component_labels[order]]
        components[component_labels[order], slot] = order
        # The tables: one row per class, its image components then its text ones.
        padding = (components < 0).repeat(1, 2)
        index = components.clamp(min=0)
        index = torch.cat([index, index + n_components], dim=1)
        means, variances, weights = (torch.cat([a, b]) for a, b in zip(image, text))
        log_norm = torch.log(weights) - 0.5 * (
            torch.log(variances).sum(dim=1) + means.shape[1] * math.log(2 * math.pi))
        self.class_tables = (means[index], 1.0 / variances[index],
                             log_norm[index].masked_fill(padding, float("-inf")),
                             self.prototypes[index])

    def _own_components(self, z_image, z_text, labels):
        """Each pair's own class's components, image then text: prototypes, responsibilities, which exist.

        Returns the prototypes ``(n, 2 * width, d)``, the E-step
        responsibilities of the pair's image under the image components and
        of its text under the text ones ``(n, 2 * width)``, and a mask of the
        components that exist ``(n, 2 * width)``: padding and the classes
        without a mixture have none (and responsibilities 0).
        """
        n, n_labels = len(labels), len(self.class_tables[0])
        width = self.class_tables[0].shape[1] // 2
        known = labels < n_labels
        means, precision, log_norm, prototypes = (
            table.index_select(0, labels.clamp(max=n_labels - 1)) for table in self.class_tables)
        exists = torch.isfinite(log_norm) & known[:, None]
        z = torch.stack([z_image, z_text], dim=1)[:, :, None, :]
        squared = ((z - means.view(n, 2, width, -1)) ** 2
                   * precision.view(n, 2, width, -1)).sum(dim=3)
        log_prob = (log_norm.view(n, 2, width) - 0.5 * squared).masked_fill(
            ~exists.view(n, 2, width), float("-inf"))
        # A class without components gets none (its rows are all -inf: NaN).
        resp = torch.nan_to_num(torch.softmax(log_prob, dim=2), nan=0.0)
        return prototypes, resp.view(n, 2 * width), exists

    def forward(self, y_pred, y_true):
        """Compute the loss of a batch: ``y_pred`` the pair ``(z_image, z_text)``, ``y_true`` the classes."""
        z_image, z_text = y_pred
        labels = y_true.long()
        anchors = torch.cat([z_image, z_text])
        scaled = anchors / self.temperature
        options = dict(instance_weight=self.instance_weight, prototype_weight=self.prototype_weight)
        if self.mixtures is None or self.prototype_weight == 0:
            return _contrastive_loss(anchors, scaled, labels, **options)
        with torch.no_grad():
            prototypes, resp, exists = self._own_components(z_image, z_text, labels)
        n = len(labels)
        # Each anchor against its pair's prototypes: (2, n, 2 * width).
        logits = torch.einsum("pnd,nkd->pnk", scaled.view(2, n, -1), prototypes)
        return _contrastive_loss(anchors, scaled, labels,
                                 prototypes=_prototype_terms(logits, resp, exists), **options)


class RelativeDistanceLoss(nn.Module):
    """Criterion module of the relative distance aligner.

    ``contrastive_weight * multi_positive_contrastive_loss + rdp_weight *
    relative_distance_loss``. The contrastive term keeps classes apart; on
    its own, RDP would be satisfied by collapsing both modalities to a point.
    """

    def __init__(self, temperature=0.1, distance_temperature=0.1, rdp_weight=1.0,
                 contrastive_weight=1.0, instance_weight=0.0):
        super().__init__()
        self.temperature = temperature
        self.distance_temperature = distance_temperature
        self.rdp_weight = rdp_weight
        self.contrastive_weight = contrastive_weight
        self.instance_weight = instance_weight

    def forward(self, y_pred, y_true):
        """Compute the loss of a batch: ``y_pred`` the pair ``(z_image, z_text)``, ``y_true`` the classes."""
        z_image, z_text = y_pred
        labels = y_true.long()
        loss = z_image.sum() * 0.0
        if self.contrastive_weight:
            loss = loss + self.contrastive_weight * multi_positive_contrastive_loss(
                z_image, z_text, labels, temperature=self.temperature,
                instance_weight=self.instance_weight,
            )
        if self.rdp_weight:
            loss = loss + self.rdp_weight * relative_distance_loss(
                z_image, z_text, labels, temperature=self.distance_temperature
            )
        return loss


def _pairwise_nll(a, b, same_label):
    """DSCMR's negative log-likelihood of the label agreement of every (a_i, b_j) pair.

    ``a`` and ``b`` of unit rows; with ``theta = cos(a_i, b_j) / 2``, the mean
    over all pairs of ``log(1 + exp(theta)) - S_ij * theta``.
    """
    theta = a @ b.T / 2
    return (F.softplus(theta) - same_label * theta).mean()


def dscmr_loss(z_image, z_text, labels_image, labels_text, targets, alpha=1e-3, beta=1e-1):
    """Compute the DSCMR objective ``J = J1 + alpha * J2 + beta * J3`` of a batch of pairs.

    * ``J1``, discrimination in the label space: the mean over pairs of
      ``||P^T u_i - y_i|| + ||P^T v_i - y_i||``, ``P`` the linear classifier,
      ``u``/``v`` the image/text representations and ``y`` the label vector;
    * ``J2``, discrimination in the common space: the negative
      log-likelihood of the label agreement of every image-text,
      image-image and text-text pair of the batch, each the mean over pairs
      of ``log(1 + exp(theta_ij)) - S_ij theta_ij`` with ``theta_ij`` half
      the cosine of the two representations and ``S_ij`` 1 when the two
      share a label, else 0;
    * ``J3``, modality invariance: the mean over pairs of ``||u_i - v_i||``.

    Parameters
    ----------
    z_image, z_text : Tensor of shape (n, d)
        Common-space representations of the batch's images and texts.
    labels_image, labels_text : Tensor of shape (n, n_classes)
        The classifier's outputs on them.
    targets : Tensor of shape (n, n_classes)
        Label vectors (one-hot for one class per pair).
    alpha, beta : float
        Weights of ``J2`` and ``J3`` (the authors' released code's defaults).

    Returns
    -------
    loss : Tensor of shape ()

    References
    ----------
    Zhen, Hu, Wang, Peng, "Deep Supervised Cross-Modal Retrieval", CVPR 2019.
    """
    targets = targets.to(z_image.dtype)
    label_space = ((labels_image - targets).norm(dim=1).mean()
                   + (labels_text - targets).norm(dim=1).mean())
    same_label = (targets @ targets.T > 0).to(z_image.dtype)
    u, v = F.normalize(z_image, dim=1, eps=1e-6), F.normalize(z_text, dim=1, eps=1e-6)
    common_space = (_pairwise_nll(u, v, same_label) + _pairwise_nll(u, u, same_label)
                    + _pairwise_nll(v, v, same_label))
    invariance = (z_image - z_text).norm(dim=1).mean()
    return label_space + alpha * common_space + beta * invariance


class DSCMRLoss(nn.Module):
    """Criterion module of :class:`~skgcrdp.baselines.DSCMREmbedder`: :func:`dscmr_loss` on class indices.

    Parameters
    ----------
    n_classes : int
        Width of the label space; class ``c`` is the one-hot vector ``e_c``.
    alpha : float, default=1e-3
    beta : float, default=1e-1
        As in :func:`dscmr_loss`.
    """

    def __init__(self, n_classes, alpha=1e-3, beta=1e-1):
        super().__init__()
        self.n_classes = n_classes
        self.alpha = alpha
        self.beta = beta

    def forward(self, y_pred, y_true):
        """Compute the loss of a batch: ``y_pred`` the module's four outputs, ``y_true`` the classes."""
        targets = F.one_hot(y_true.long(), self.n_classes)
        return dscmr_loss(*y_pred, targets, alpha=self.alpha, beta=self.beta)
