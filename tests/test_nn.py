"""The torch parts on their own: encoders and losses."""

import numpy as np
import pytest
import torch
from sklearn.mixture import GaussianMixture
from torch.nn import functional as F

from skgcrdp.nn import (
    DSCMRLoss,
    ModalityHeads,
    MultiPositiveContrastiveLoss,
    SharedLayerHeads,
    diagonal_gmm_responsibilities,
    dscmr_loss,
    multi_positive_contrastive_loss,
    relative_distance_loss,
)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    z_image = F.normalize(torch.randn(12, 5, generator=g), dim=1)
    z_text = F.normalize(torch.randn(12, 5, generator=g), dim=1)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    return z_image, z_text, labels


def test_contrastive_loss_with_unique_labels_is_nt_xent(batch):
    z_image, z_text, _ = batch
    labels = torch.arange(12)
    z = torch.cat([z_image, z_text])
    logits = z @ z.T / 0.1
    logits.fill_diagonal_(float("-inf"))
    partner = torch.arange(24).roll(12)
    expected = F.cross_entropy(logits, partner)
    loss = multi_positive_contrastive_loss(z_image, z_text, labels, temperature=0.1)
    assert torch.allclose(loss, expected, atol=1e-6)


def test_instance_weight_interpolates_supcon_and_nt_xent(batch):
    z_image, z_text, labels = batch
    instance = multi_positive_contrastive_loss(z_image, z_text, torch.arange(12))
    supcon = multi_positive_contrastive_loss(z_image, z_text, labels)
    pure = multi_positive_contrastive_loss(z_image, z_text, labels, instance_weight=1.0)
    half = multi_positive_contrastive_loss(z_image, z_text, labels, instance_weight=0.5)
    assert not torch.isclose(supcon, instance, atol=1e-3)
    assert torch.isclose(pure, instance, atol=1e-6)
    # The target is linear in instance_weight, and so is the loss.
    assert torch.isclose(half, (supcon + instance) / 2, atol=1e-6)


def test_prototypes_count_as_positives_of_their_own_class(batch):
    z_image, z_text, labels = batch
    protos = torch.stack([F.normalize(z_image[labels == c].mean(0), dim=0) for c in range(4)])
    plain = multi_positive_contrastive_loss(z_image, z_text, labels)
    on_class = multi_positive_contrastive_loss(
        z_image, z_text, labels, prototypes=protos, prototype_labels=torch.arange(4)
    )
    shuffled = multi_positive_contrastive_loss(
        z_image, z_text, labels, prototypes=protos, prototype_labels=torch.tensor([1, 2, 3, 0])
    )
    ignored = multi_positive_contrastive_loss(
        z_image, z_text, labels, prototypes=protos, prototype_labels=torch.arange(4),
        prototype_weight=0.0,
    )
    assert on_class < shuffled
    # With no share for them, prototypes are only extra negatives.
    assert ignored > plain


def test_contrastive_loss_is_the_cross_entropy_of_its_target(batch):
    # The loss, written out as the docstring defines it: a target over every
    # anchor's candidates (the other anchors, then the prototypes), against the
    # log-softmax of the candidates' similarities.
    z_image, z_text, labels = batch
    g = torch.Generator().manual_seed(1)
    protos = F.normalize(torch.randn(7, 5, generator=g), dim=1)
    proto_labels = torch.tensor([0, 0, 1, 2, 2, 3, 4])
    resp = torch.rand(12, 7, generator=g) * (labels[:, None] == proto_labels[None, :])
    instance_weight, prototype_weight, temperature = 0.3, 0.4, 0.5
    anchors, anchor_labels = torch.cat([z_image, z_text]), torch.cat([labels, labels])
    logits = anchors @ torch.cat([anchors, protos]).T / temperature
    logits[:, :24].fill_diagonal_(float("-inf"))
    log_prob = torch.log_softmax(logits, dim=1).nan_to_num(neginf=0.0)
    same = (anchor_labels[:, None] == anchor_labels[None, :]).float().fill_diagonal_(0)
    proto = torch.cat([resp, resp])
    target = torch.cat([(1 - prototype_weight) * same / same.sum(1, keepdim=True),
                        prototype_weight * proto / proto.sum(1, keepdim=True)], dim=1)
    target = (1 - instance_weight) * target
    target[torch.arange(24), torch.arange(24).roll(12)] += instance_weight
    expected = -(target * log_prob).sum(1).mean()
    loss = multi_positive_contrastive_loss(
        z_image, z_text, labels, prototypes=protos, prototype_labels=proto_labels,
        prototype_responsibilities=resp, temperature=temperature,
        instance_weight=instance_weight, prototype_weight=prototype_weight)
    torch.testing.assert_close(loss, expected)
    # Its gradient is that of the written-out loss.
    z = z_image.clone().requires_grad_(True)
    multi_positive_contrastive_loss(
        z, z_text, labels, prototypes=protos, prototype_labels=proto_labels,
        prototype_responsibilities=resp, temperature=temperature,
        instance_weight=instance_weight, prototype_weight=prototype_weight).backward()
    reference = z_image.clone().requires_grad_(True)
    logits = torch.cat([reference, z_text]) @ torch.cat([reference, z_text, protos]).T / temperature
    logits = logits.masked_fill(torch.eye(24, 31, dtype=torch.bool), float("-inf"))
    written_out = -(target * torch.log_softmax(logits, dim=1).nan_to_num(neginf=0.0)).sum(1).mean()
    written_out.backward()
    torch.testing.assert_close(z.grad, reference.grad)


def test_responsibilities_match_sklearn_within_class(rng):
    Z = rng.randn(200, 3)
    gm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(Z)
    resp = diagonal_gmm_responsibilities(
        torch.tensor(Z),
        torch.tensor(gm.means_),
        torch.tensor(gm.covariances_),
        torch.tensor(gm.weights_),
        component_labels=torch.zeros(3, dtype=torch.long),
        labels=torch.zeros(200, dtype=torch.long),
    )
    np.testing.assert_allclose(resp.numpy(), gm.predict_proba(Z), atol=1e-6)
    # Components of another class get no responsibility; a class without components gets none.
    resp = diagonal_gmm_responsibilities(
        torch.tensor(Z[:4]), torch.tensor(gm.means_), torch.tensor(gm.covariances_),
        torch.tensor(gm.weights_), torch.tensor([0, 0, 1]), torch.tensor([0, 1, 2, 0]),
    )
    assert torch.allclose(resp.sum(1), torch.tensor([1.0, 1.0, 0.0, 1.0], dtype=resp.dtype))
    assert resp[1, :2].sum() == 0 and resp[0, 2] == 0


def test_relative_distance_loss_vanishes_only_for_matching_arrangements(batch):
    z_image, z_text, labels = batch
    assert relative_distance_loss(z_image, z_image.clone(), labels) == pytest.approx(0, abs=1e-6)
    # Same points, but the pairs broken: the arrangements no longer match.
    assert relative_distance_loss(z_image, z_image.roll(1, dims=0), labels) > 0.1
    assert relative_distance_loss(z_image, z_text, labels) > 0.1


def test_relative_distance_loss_trains(batch):
    z_image, z_text, labels = batch
    z_text = z_text.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([z_text], lr=0.05)
    before = relative_distance_loss(z_image, F.normalize(z_text, dim=1), labels).item()
    for _ in range(100):
        optimizer.zero_grad()
        loss = relative_distance_loss(z_image, F.normalize(z_text, dim=1), labels)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * before


def test_residual_heads_start_as_identity():
    heads = ModalityHeads(4, 4, embedding_dim=4, n_hidden_layers=0, residual=True, normalize=False)
    x = torch.randn(3, 4)
    z_image, z_text = heads(x, x)
    assert torch.equal(z_image, x) and torch.equal(z_text, x)


def test_dscmr_loss_terms_by_hand():
    # Two pairs of one class and one of another, in a 2-d common space.
    u = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    v = torch.tensor([[1.0, 1.0], [0.0, 1.0], [3.0, 0.0]])
    targets = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    p_u = torch.tensor([[0.5, 0.0], [1.0, 1.0], [0.0, 0.0]])
    p_v = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    # J1: per-pair distances of the predictions to the label vectors.
    j1 = np.mean([0.5, 1.0, 1.0]) + np.mean([0.0, 0.0, 1.0])
    # J2: theta = cos / 2 of every pair, S = same class.
    same = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]])

    def nll(a, b):
        a, b = a.numpy(), b.numpy()
        cos = (a @ b.T) / np.outer(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1))
        theta = cos / 2
        return np.mean(np.log1p(np.exp(theta)) - same * theta)

    j2 = nll(u, v) + nll(u, u) + nll(v, v)
    # J3: per-pair distances of the two modalities.
    j3 = np.mean([1.0, 1.0, 4.0])
    for alpha, beta, expected in [(0.0, 0.0, j1), (1.0, 0.0, j1 + j2), (0.0, 1.0, j1 + j3),
                                  (1e-3, 1e-1, j1 + 1e-3 * j2 + 1e-1 * j3)]:
        loss = dscmr_loss(u, v, p_u, p_v, targets, alpha=alpha, beta=beta)
        assert loss.item() == pytest.approx(expected, rel=1e-6)
    # The criterion module takes class indices.
    module = DSCMRLoss(n_classes=2, alpha=1e-3, beta=1e-1)
    assert module((u, v, p_u, p_v), torch.tensor([0, 0, 1])).item() == pytest.approx(
        j1 + 1e-3 * j2 + 1e-1 * j3, rel=1e-6)


def test_shared_layer_heads_share_the_last_layer_and_classify_either_modality():
    torch.manual_seed(0)
    heads = SharedLayerHeads(6, 3, n_classes=4, embedding_dim=5, hidden_dim=7)
    image, text = torch.randn(2, 6), torch.randn(2, 3)
    z_image, z_text, p_image, p_text = heads(image=image, text=text)
    assert z_image.shape == z_text.shape == (2, 5) and p_image.shape == p_text.shape == (2, 4)
    # Own hidden layers, then one layer both modalities go through.
    torch.testing.assert_close(z_image, heads.shared(heads.image(image)))
    torch.testing.assert_close(z_text, heads.shared(heads.text(text)))
    torch.testing.assert_close(p_text, heads.classifier(z_text))
    assert heads(image=image)[1] is None
    with pytest.raises(ValueError, match="at least one hidden layer"):
        SharedLayerHeads(6, 3, n_classes=4, n_hidden_layers=0)


def _criterion_with_mixtures(component_labels=None, d=5, seed=0):
    """A criterion over random mixtures; by default 2 components of each of classes 0 to 5."""
    g = torch.Generator().manual_seed(seed)
    if component_labels is None:
        component_labels = torch.arange(6).repeat_interleave(2)
    criterion = MultiPositiveContrastiveLoss(temperature=0.5, instance_weight=0.3)
    k = len(component_labels)

    def mixture():
        return (F.normalize(torch.randn(k, d, generator=g), dim=1),
                torch.rand(k, d, generator=g) + 0.1, torch.full((k,), 0.5))

    criterion.set_mixtures(mixture(), mixture(), component_labels)
    return criterion


def _public_loss(criterion, z_image, z_text, labels, own_class_only=True):
    """The criterion's loss written with the public function: every prototype, the
    responsibilities of each pair's class, and each pair's softmax masked to its
    class's prototypes (or not masked)."""
    components = criterion.mixtures["labels"]
    # The responsibilities are part of the target, which carries no gradient.
    with torch.no_grad():
        resp = torch.cat([diagonal_gmm_responsibilities(z, *criterion.mixtures[m], components, labels)
                          for z, m in ((z_image, "image"), (z_text, "text"))], dim=1)
    own = (labels[:, None] == components[None, :]).repeat(1, 2)
    return multi_positive_contrastive_loss(
        z_image, z_text, labels, prototypes=criterion.prototypes, prototype_responsibilities=resp,
        temperature=0.5, instance_weight=0.3, prototype_mask=own if own_class_only else None)


def test_criterion_softmax_holds_each_pairs_own_prototypes(batch):
    z_image, z_text, labels = batch  # classes 0 to 3 of 6
    criterion = _criterion_with_mixtures()
    masked = _public_loss(criterion, z_image, z_text, labels)
    torch.testing.assert_close(criterion((z_image, z_text), labels), masked)
    # The other classes' prototypes in the softmax would give another loss.
    every = _public_loss(criterion, z_image, z_text, labels, own_class_only=False)
    assert every > masked + 1e-3
    # Its gradient is the masked loss's.
    grads = []
    for loss_of in (lambda z: criterion((z, z_text), labels),
                    lambda z: _public_loss(criterion, z, z_text, labels)):
        z = z_image.clone().requires_grad_(True)
        loss_of(z).backward()
        grads.append(z.grad)
    torch.testing.assert_close(*grads)


def test_criterion_pairs_of_classes_without_mixture_have_no_prototypes(batch):
    z_image, z_text, labels = batch  # classes 0 to 3
    # Class 1 has no mixture, class 3 lies past the last one.
    criterion = _criterion_with_mixtures(torch.tensor([0, 0, 2, 2]), seed=2)
    torch.testing.assert_close(criterion((z_image, z_text), labels),
                               _public_loss(criterion, z_image, z_text, labels))
    # A batch of those classes alone is trained without prototypes.
    alone = (labels == 1) | (labels == 3)
    torch.testing.assert_close(
        criterion((z_image[alone], z_text[alone]), labels[alone]),
        multi_positive_contrastive_loss(z_image[alone], z_text[alone], labels[alone],
                                        temperature=0.5, instance_weight=0.3))


