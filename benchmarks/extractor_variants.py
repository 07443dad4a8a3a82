"""Variants of the extractor's training: mixture sampling and size, RDP in the encoders, a span front.

    python benchmarks/extractor_variants.py                    # both sets, K = all and 5 (about 20 minutes)
    python benchmarks/extractor_variants.py openclipart 5      # one set, one K
    python benchmarks/extractor_variants.py wikipedia all 3 5  # ... with episodes and inner splits
    python benchmarks/extractor_variants.py wikipedia all 3 5 "span front, the whole span"
                                                               # ... and some variants only

Measured for docs/user_guide/benchmark.md ("Fifth round"). Four directions of the method work
that the earlier rounds left unmeasured:

* **Virtual positives** (the paper's "filling in the sparse peaks"): in every batch each
  mixture component of the extractor is replaced by ``DRAWS`` draws ``mean + sqrt(var) * eps``
  in the shared space (then unit length), which share its responsibilities; they are positives
  of their class and negatives of the others. Measured with the default target and with the
  class-level target on the prototypes (``instance_weight=0.5, prototype_weight=1``).
* **The mixtures' size**: 1 or 4 components per class instead of 2, spherical covariances.
* **Relative distance preservation inside the encoders**, not only in the aligner after them:
  the extractor's loss plus ``lam`` times skgcrdp's RDP loss (symmetric), or plus a one-way
  term that teaches one modality's within-batch distance distribution (softmax(-D / tau),
  the teacher's side detached) to the other: text to image distils the stronger modality's
  neighbourhoods into the weaker one.
* **A span-projection front** (capacity that follows the data): with fewer pairs than input
  columns, the first layer's weights outside the span of the training inputs never move from
  their random start. The front standardises each modality and projects it onto the leading
  principal directions of the training inputs (99% or 90% of their variance, or the whole
  span), so unseen inputs lose what the training pairs never showed.

Every variant, the reference included, gives every class its mixture
(``min_pairs_for_mixture=1``, the extractor's behaviour when this was measured), so that the
mixture rows mean the same at K = 5 as with all pairs.

For each outer episode (the benchmark's own, seed 0; 3 unless given), an inner class-disjoint
CV of the seen classes (5 draws unless given, half of them held out) gives the score that would
choose, printed as the paired difference to the defaults ± standard error over the folds; the
unseen-class mAP of the variant fitted on all seen classes is printed for information only.
"""

import sys
import time
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch.nn import functional as F

from select_defaults import evaluate  # the same inner and outer folds (benchmarks/ is on the path)
from skgcrdp import ModalityTransformer
from skgcrdp.benchmark import load_benchmark_data
from skgcrdp.gmm import GMMFeatureExtractor
from skgcrdp.nn.losses import (
    MultiPositiveContrastiveLoss,
    _off_diagonal,
    diagonal_gmm_responsibilities,
    multi_positive_contrastive_loss,
    relative_distance_loss,
)

DRAWS = 4
CLASS_LEVEL_PROTOTYPES = {"extract__instance_weight": 0.5, "extract__prototype_weight": 1.0}
EVERY_CLASS_A_MIXTURE = {"extract__min_pairs_for_mixture": 1}


class SampledPrototypeLoss(MultiPositiveContrastiveLoss):
    """The extractor's loss with ``DRAWS`` fresh draws from each component in place of its mean."""

    def forward(self, y_pred, y_true):
        if self.mixtures is None or self.prototype_weight == 0:
            return super().forward(y_pred, y_true)
        z_image, z_text = y_pred
        labels = y_true.long()
        component_labels = self.mixtures["labels"]
        draws, responsibilities = [], []
        for z, modality in ((z_image, "image"), (z_text, "text")):
            means, variances, weights = self.mixtures[modality]
            with torch.no_grad():
                resp = diagonal_gmm_responsibilities(
                    z.detach(), means, variances, weights, component_labels, labels
                )
            # Draw d of component k sits at d * K + k, so the responsibilities tile alike.
            noise = torch.randn((DRAWS, *means.shape), device=means.device)
            draws.append((means + variances.sqrt() * noise).reshape(-1, means.shape[1]))
            responsibilities.append(resp.repeat(1, DRAWS) / DRAWS)
        draw_labels = component_labels.repeat(DRAWS)
        return multi_positive_contrastive_loss(
            z_image, z_text, labels,
            prototypes=F.normalize(torch.cat(draws), dim=1),
            prototype_labels=torch.cat([draw_labels, draw_labels]),
            prototype_responsibilities=torch.cat(responsibilities, dim=1),
            temperature=self.temperature,
            instance_weight=self.instance_weight,
            prototype_weight=self.prototype_weight,
        )


def one_way_distance_loss(student, teacher, temperature):
    """KL from the teacher's within-batch distance distribution (detached) to the student's."""
    def log_profile(z):
        return F.log_softmax(-_off_diagonal(torch.cdist(z, z).pow(2)) / temperature, dim=1)
    log_teacher = log_profile(teacher).detach()
    return (log_teacher.exp() * (log_teacher - log_profile(student))).sum(dim=1).mean()


class EncoderRDPLoss(MultiPositiveContrastiveLoss):
    """The extractor's loss plus ``rdp_weight`` times an RDP term of the batch."""

    def __init__(self, rdp_kind="symmetric", rdp_weight=0.0, rdp_temperature=0.1, **params):
        super().__init__(**params)
        self.rdp_kind = rdp_kind
        self.rdp_weight = rdp_weight
        self.rdp_temperature = rdp_temperature

    def forward(self, y_pred, y_true):
        loss = super().forward(y_pred, y_true)
        z_image, z_text = y_pred
        if z_image.shape[0] < 3:
            return loss
        tau = self.rdp_temperature
        if self.rdp_kind == "symmetric":
            term = relative_distance_loss(z_image, z_text, y_true.long(), temperature=tau)
        elif self.rdp_kind == "text to image":
            term = one_way_distance_loss(z_image, z_text, tau)
        else:
            term = one_way_distance_loss(z_text, z_image, tau)
        return loss + self.rdp_weight * term


class SampledGMMFeatureExtractor(GMMFeatureExtractor):
    """:class:`GMMFeatureExtractor` trained with :class:`SampledPrototypeLoss`."""

    def _criterion(self):
        _, params = super()._criterion()
        return SampledPrototypeLoss, params


class EncoderRDPExtractor(GMMFeatureExtractor):
    """:class:`GMMFeatureExtractor` trained with :class:`EncoderRDPLoss`.

    The RDP settings (``rdp``, keyword arguments of the loss) are set on the instance: they are
    not estimator parameters, and the script never clones the extractor.
    """

    rdp = {}

    def _criterion(self):
        _, params = super()._criterion()
        return EncoderRDPLoss, {**params, **self.rdp}


class SpanProjector(TransformerMixin, BaseEstimator):
    """Project onto the principal directions holding ``keep`` of the training variance."""

    def __init__(self, keep=0.99):
        self.keep = keep

    def fit(self, X, y=None):
        n_components = None if self.keep == 1 else self.keep
        self.pca_ = PCA(n_components=n_components, svd_solver="full").fit(X)
        return self

    def transform(self, X):
        return self.pca_.inverse_transform(self.pca_.transform(X))


def span_front(keep):
    def front():
        return make_pipeline(StandardScaler(), SpanProjector(keep))
    return {"preprocess": ModalityTransformer(image=front(), text=front())}


def swapped(extractor, **params):
    """Parameters that swap the extractor for ``extractor`` (a subclass), with the defaults' settings."""
    def build(n_image):
        return {"extract": extractor(n_image, random_state=0), **params}
    return build


def sampled(**params):
    return swapped(SampledGMMFeatureExtractor, **params)


def encoder_rdp(kind, weight, temperature=0.1):
    def build(n_image):
        extractor = EncoderRDPExtractor(n_image, random_state=0)
        extractor.rdp = {"rdp_kind": kind, "rdp_weight": weight, "rdp_temperature": temperature}
        return {"extract": extractor}
    return build


VARIANTS = {
    "defaults": {},
    f"virtual positives ({DRAWS} draws per component)": sampled(),
    "class-level prototypes (instance_weight=0.5, prototype_weight=1)": CLASS_LEVEL_PROTOTYPES,
    "class-level prototypes + virtual positives": sampled(**CLASS_LEVEL_PROTOTYPES),
    "1 component per class": {"extract__n_components_per_class": 1},
    "4 components per class": {"extract__n_components_per_class": 4},
    "spherical components": {"extract__covariance_type": "spherical"},
    "span front, 99% of the variance": span_front(0.99),
    "span front, 90% of the variance": span_front(0.90),
    "span front, the whole span": span_front(1.0),
    "RDP in the encoders, symmetric, weight 0.3": encoder_rdp("symmetric", 0.3),
    "RDP in the encoders, symmetric, weight 1": encoder_rdp("symmetric", 1.0),
    "RDP in the encoders, text to image, weight 1": encoder_rdp("text to image", 1.0),
    "RDP in the encoders, text to image, weight 1, tau 0.5": encoder_rdp("text to image", 1.0, 0.5),
    "RDP in the encoders, image to text, weight 1": encoder_rdp("image to text", 1.0),
}


def with_every_class_a_mixture(variant):
    """The variant's pipeline parameters on top of ``min_pairs_for_mixture=1``."""
    def build(n_image):
        return {**EVERY_CLASS_A_MIXTURE, **(variant(n_image) if callable(variant) else variant)}
    return build


def main(argv):
    warnings.filterwarnings("ignore")
    sets = [argv[0]] if argv else ["openclipart", "wikipedia"]
    shots_list = [argv[1]] if len(argv) > 1 else ["all", "5"]
    n_episodes = int(argv[2]) if len(argv) > 2 else 3
    inner_splits = int(argv[3]) if len(argv) > 3 else 5
    names = ["defaults", *argv[4:]] if len(argv) > 4 else list(VARIANTS)
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variant(s) {unknown}; known: {list(VARIANTS)}")
    print(f"{n_episodes} episodes x {inner_splits} inner splits; each cell: inner CV mAP, "
          "paired difference to the defaults ± se (selects), unseen mAP (reported)")
    print("| data | K | variant | inner CV | difference ± se | unseen | s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in sets:
        data = load_benchmark_data(name)
        for shots in shots_list:
            reference = None
            for variant in names:
                params = VARIANTS[variant]
                start = time.perf_counter()
                inner, outer = evaluate(with_every_class_a_mixture(params), data, n_episodes,
                                        None if shots == "all" else int(shots), inner_splits, 0.5)
                reference = inner if reference is None else reference
                diff = inner - reference
                se = diff.std(ddof=1) / np.sqrt(len(diff))
                print(f"| {data.name} | {shots} | {variant} | {inner.mean():.4f} | "
                      f"{diff.mean():+.4f} ± {se:.4f} | {outer:.4f} | "
                      f"{time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
