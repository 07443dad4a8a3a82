"""GCRDP, PLS and CCA on Wikipedia's official split (all classes seen in training).

    python scripts/official_split.py

Fit on the 2173 official training pairs, score mAP@all on the 693 test pairs.
"""

import time
import warnings

from sklearn.cross_decomposition import CCA, PLSCanonical

from skgcrdp import make_gcrdp_pipeline
from skgcrdp.baselines import CrossDecompositionEmbedder
from skgcrdp.datasets import load_wikipedia
from skgcrdp.metrics import cross_modal_retrieval_score


def main():
    warnings.filterwarnings("ignore")
    train, test = load_wikipedia(subset="train"), load_wikipedia(subset="test")
    methods = {
        "GCRDP (default pipeline, `random_state=0`)": make_gcrdp_pipeline(128, random_state=0)[:-1],
        "PLS (`PLSCanonical(10)`, standardised)": CrossDecompositionEmbedder(128, PLSCanonical(10)),
        "CCA (`CCA(10)`, standardised)": CrossDecompositionEmbedder(128, CCA(10, max_iter=1000)),
    }
    print("| method | image→text | text→image | mean | fit (s) |")
    print("| --- | --- | --- | --- | --- |")
    for name, model in methods.items():
        start = time.perf_counter()
        model.fit(train.data, train.target)
        seconds = time.perf_counter() - start
        Z = model.transform(test.data)
        i2t = cross_modal_retrieval_score(Z, test.target, direction="image_to_text")
        t2i = cross_modal_retrieval_score(Z, test.target, direction="text_to_image")
        print(f"| {name} | {i2t:.4f} | {t2i:.4f} | {(i2t + t2i) / 2:.4f} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
