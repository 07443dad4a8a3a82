"""Which prototypes an anchor's softmax holds: its own class's (the default) or every class's in the batch.

    python scripts/prototype_candidates.py              # both embedded sets, 5 episodes x 5 splits

Inner class-disjoint CV inside the seen classes only: for each of
``--episodes`` benchmark episodes (half the classes seen, all their pairs),
``--splits`` class-disjoint splits of the seen classes into training and
validation halves; the default pipeline is fitted on each training half and
scored (mean image->text / text->image mAP) on its validation half, once as
it is and once with the counterfactual criterion below. The paired
differences and their standard errors are printed per data set; the unseen
classes are never used.

The counterfactual (``InBatchPrototypes``) puts the prototypes of every class
in the batch into every anchor's softmax, as the criterion did before this was measured:
the other classes' prototypes are extra negatives. It switches that on by
subclassing internals (the criterion, and the extractor's choice of it).
"""

import argparse
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.model_selection import cross_val_score

from skgcrdp import GMMFeatureExtractor, make_gcrdp_pipeline
from skgcrdp.benchmark._datasets import load_benchmark_data
from skgcrdp.model_selection import ClassDisjointSplit
from skgcrdp.nn import MultiPositiveContrastiveLoss
from skgcrdp.nn.losses import _contrastive_loss


class InBatchPrototypes(MultiPositiveContrastiveLoss):
    """The criterion with every prototype of the batch's classes in every anchor's softmax."""

    def forward(self, y_pred, y_true):
        z_image, z_text = y_pred
        labels = y_true.long()
        if self.mixtures is None or self.prototype_weight == 0:
            return super().forward(y_pred, y_true)
        anchors = torch.cat([z_image, z_text])
        scaled = anchors / self.temperature
        with torch.no_grad():
            own, resp, _ = self._own_components(z_image, z_text, labels)
        positive = (scaled * (resp[:, :, None] * own).sum(dim=1).repeat(2, 1)).sum(dim=1)
        component_labels = self.mixtures["labels"]
        in_batch = torch.isin(component_labels, labels).repeat(2)
        return _contrastive_loss(anchors, scaled, labels, self.instance_weight, self.prototype_weight,
                                 prototypes=(scaled @ self.prototypes[in_batch].T, positive,
                                             resp.sum(dim=1)))


class InBatchExtractor(GMMFeatureExtractor):
    def _criterion(self):
        return InBatchPrototypes, super()._criterion()[1]


def inner_scores(data, n_episodes, n_splits, counterfactual):
    scores = []
    outer = ClassDisjointSplit(n_episodes, test_size=0.5, random_state=0)
    for episode, (seen, _) in enumerate(outer.split(data.X, data.y)):
        pipeline = make_gcrdp_pipeline(data.n_image_features, random_state=0)
        if counterfactual:
            pipeline.set_params(extract=InBatchExtractor(**pipeline[0].get_params()))
        inner = ClassDisjointSplit(n_splits, test_size=0.5, random_state=100 + episode)
        scores.append(cross_val_score(pipeline, data.X[seen], data.y[seen], cv=inner))
    return np.concatenate(scores)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["wikipedia", "openclipart"],
                        help="embedded data sets (default: wikipedia openclipart)")
    parser.add_argument("--episodes", type=int, default=5,
                        help="class-disjoint episodes per data set (default: 5)")
    parser.add_argument("--splits", type=int, default=5,
                        help="inner class-disjoint splits per episode (default: 5)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print("| data | inner splits | own class's prototypes (default) | every batch class's | "
          "default - every | s.e. |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in args.data:
        start = time.perf_counter()
        data = load_benchmark_data(name)
        own = inner_scores(data, args.episodes, args.splits, counterfactual=False)
        every = inner_scores(data, args.episodes, args.splits, counterfactual=True)
        difference = own - every
        print(f"| {name} | {len(own)} | {own.mean():.4f} | {every.mean():.4f} | "
              f"{difference.mean():+.4f} | {difference.std(ddof=1) / np.sqrt(len(own)):.4f} |",
              flush=True)
        print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
