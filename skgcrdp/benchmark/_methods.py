"""The methods the benchmark compares: GCRDP, its ablations and baselines.

Each method is a factory of a fit/transform estimator that maps paired
``X = [image | text]`` to a shared space ``[image half | text half]``; the
benchmark scores every one of them with the same retrieval metric.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sklearn.cross_decomposition import CCA, PLSCanonical

from ..baselines import CrossDecompositionEmbedder, DSCMREmbedder, RandomProjectionEmbedder
from ..model_selection import ClassDisjointSplit
from ..pipeline import make_gcrdp_pipeline
from ..union import make_profile_union
from ._selection import ChosenByCV

__all__ = ["METHODS", "ChosenByCV", "EpisodeContext", "Method", "resolve_methods"]

# Width of the linear baselines: the smaller modality caps CCA and PLS, and
# on Wikipedia (10 text features) 10 is that cap. On Open Clip Art, PLS with
# 32, 64 or 128 components scored lower than with 10 (docs/user_guide/benchmark.md).
MAX_LINEAR_COMPONENTS = 10
# CCA whitens each view: with about as many features as pairs (Open Clip Art's
# 1280-d images) it fails or fits noise, so it sees 32 principal components
# per modality (best of 16/32/64/128 on Open Clip Art; docs/user_guide/benchmark.md).
CCA_PCA_COMPONENTS = 32
# DSCMR in the benchmark: the authors' losses, weights, optimiser, learning
# rate and batch size, but GCRDP's encoder widths (512 hidden, a 64-wide
# space) and 50 epochs, for time: the authors' 2048/1024 widths train 15x
# slower on these inputs. On inner class-disjoint splits of the seen classes
# (no unseen class involved), 25 to 200 epochs scored within 0.03 of each
# other and no one number was best on both sets; 500 optimiser steps at
# every K (10 times more with 5 or 1 pairs per class) did not lift its
# few-shot rows (docs/user_guide/benchmark.md).
DSCMR_PARAMS = dict(hidden_dim=512, embedding_dim=64, max_epochs=50)
# Inner class-disjoint splits of the "chosen by CV" row: the union's own
# (relative_profiles="auto" chooses its weight on 5), so that the two share
# their fits.
SELECTION_SPLITS = 5


@dataclass(frozen=True)
class Method:
    """One compared method.

    ``kind`` is ``"GCRDP"`` (the default pipeline), ``"variant"`` (the
    pipeline with an option switched on), ``"ablation"`` (the pipeline with a
    part switched off), ``"baseline"``, ``"chance"`` or ``"selection"``
    (model selection among other rows); ``build(context)`` returns an
    unfitted embedder. Methods with ``default=False`` run only when named or
    with ``--full``.
    """

    name: str
    kind: str
    description: str
    build: Callable
    default: bool = True


@dataclass(frozen=True)
class EpisodeContext:
    """What a method's factory may depend on in one episode."""

    n_image_features: int
    n_text_features: int
    n_pairs: int
    seed: int
    device: str
    gcrdp_params: dict

    @property
    def linear_width(self):
        width = min(MAX_LINEAR_COMPONENTS, self.n_image_features, self.n_text_features)
        # PLS and CCA need more pairs than components.
        return max(1, min(width, self.n_pairs - 1))


def _gcrdp(relative_profiles=None, **switches):
    def build(ctx):
        params = dict(ctx.gcrdp_params)
        if switches.get("align") == "passthrough":
            # A removed aligner takes no parameters.
            params = {k: v for k, v in params.items() if not k.startswith("align__")}
        params.update(switches)
        # ``--param relative_profiles=...`` puts profiles beside every GCRDP-family row.
        profiles = params.pop("relative_profiles", relative_profiles)
        pipeline = make_gcrdp_pipeline(
            ctx.n_image_features, random_state=ctx.seed, device=ctx.device,
            relative_profiles=profiles, **params
        )
        return pipeline[:-1]

    return build


def _with_profiles(build_member):
    """The same union with relative profiles (weight by inner CV) that GCRDP gets, for a baseline."""
    def build(ctx):
        return make_profile_union("baseline", build_member(ctx), ctx.n_image_features,
                                  weight="auto", random_state=ctx.seed)

    return build


def _cross_decomposition(estimator, n_pca_components=None, inner_folds=False):
    def build(ctx):
        width = ctx.linear_width
        if inner_folds:
            # Fitted on about half of the classes in the union's inner CV:
            # with one pair per class that is too few pairs for the full width.
            width = max(1, min(width, ctx.n_pairs // 2 - 1))
        return CrossDecompositionEmbedder(
            ctx.n_image_features,
            estimator(n_components=width, max_iter=1000),
            n_pca_components=n_pca_components,
        )

    return build


def _dscmr(ctx):
    return DSCMREmbedder(ctx.n_image_features, device=ctx.device, random_state=ctx.seed,
                         **DSCMR_PARAMS)


def _chosen_by_cv(ctx):
    candidates = {name: METHODS[name].build(ctx) for name in SELECTION_CANDIDATES}
    # The PLS of the profiles' union: inner fits see half the classes.
    candidates["PLS"] = _cross_decomposition(PLSCanonical, inner_folds=True)(ctx)
    splits = ClassDisjointSplit(SELECTION_SPLITS, test_size=0.5, random_state=ctx.seed)
    return ChosenByCV(candidates, splits)


def _random_projection(ctx):
    return RandomProjectionEmbedder(
        ctx.n_image_features, n_components=ctx.linear_width, random_state=ctx.seed
    )


METHODS = {
    m.name: m
    for m in [
        Method("GCRDP", "GCRDP", "default pipeline: GMM extractor + RDP aligner", _gcrdp()),
        Method(
            "GCRDP w/o prototypes",
            "ablation",
            "extractor without GMM prototypes (prototype_weight=0)",
            _gcrdp(extract__prototype_weight=0.0),
            default=False,
        ),
        Method(
            "GCRDP w/o alignment",
            "ablation",
            "no relative-distance aligner (align='passthrough')",
            _gcrdp(align="passthrough"),
        ),
        Method(
            "contrastive encoders",
            "ablation",
            "neither: plain multi-positive contrastive encoders",
            _gcrdp(align="passthrough", extract__prototype_weight=0.0),
            default=False,
        ),
        Method(
            "PLS",
            "baseline",
            "PLSCanonical on standardised inputs",
            _cross_decomposition(PLSCanonical),
        ),
        Method(
            "CCA",
            "baseline",
            f"CCA on standardised inputs, {CCA_PCA_COMPONENTS} principal components per modality",
            _cross_decomposition(CCA, CCA_PCA_COMPONENTS),
        ),
        Method(
            "DSCMR",
            "baseline",
            "Deep Supervised Cross-Modal Retrieval (Zhen et al., CVPR 2019), skorch",
            _dscmr,
        ),
        # The same encoders and training as GCRDP's extractor, trained with the
        # plain SupCon loss: class-level positives only, no pair term, no mixtures.
        Method(
            "SupCon MLP",
            "baseline",
            "two-tower MLP trained by supervised contrastive loss (skorch)",
            _gcrdp(align="passthrough", extract__prototype_weight=0.0, extract__instance_weight=0.0),
        ),
        Method(
            "GCRDP + profiles",
            "variant",
            "default pipeline beside relative profiles, weight by inner class-disjoint CV",
            _gcrdp(relative_profiles="auto"),
        ),
        Method(
            "PLS + profiles",
            "baseline",
            "PLS beside the same relative profiles, weight by the same inner CV",
            _with_profiles(_cross_decomposition(PLSCanonical, inner_folds=True)),
        ),
        Method(
            "SupCon MLP + profiles",
            "baseline",
            "SupCon MLP beside the same relative profiles, weight by the same inner CV",
            _gcrdp(relative_profiles="auto", align="passthrough", extract__prototype_weight=0.0,
                   extract__instance_weight=0.0),
        ),
        Method(
            "chosen by CV",
            "selection",
            "per episode, class-disjoint GridSearchCV on the seen classes chooses among "
            "GCRDP, GCRDP w/o alignment, PLS, SupCon MLP and DSCMR, refitted on all seen pairs",
            _chosen_by_cv,
            default=False,
        ),
        Method(
            "random projection",
            "chance",
            "unrelated Gaussian projections of each modality",
            _random_projection,
        ),
    ]
}
SELECTION_CANDIDATES = ("GCRDP", "GCRDP w/o alignment", "SupCon MLP", "DSCMR")


def resolve_methods(names=None, full=False):
    """The :class:`Method` objects for ``names``; for None, the default ones (all with ``full``)."""
    if names is None:
        return [m for m in METHODS.values() if full or m.default]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise ValueError(
            f"Unknown method(s) {unknown}; choose from {list(METHODS)}."
        )
    if not names:
        raise ValueError(f"No method given; choose from {list(METHODS)}.")
    return [METHODS[n] for n in dict.fromkeys(names)]
