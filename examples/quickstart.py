"""Quickstart: fit GCRDP on seen classes, retrieve across modalities on unseen ones.

Run: python examples/quickstart.py
"""

import numpy as np

from skgcrdp import CrossModalRetriever, embed_modality, make_gcrdp_pipeline
from skgcrdp.datasets import load_wikipedia
from skgcrdp.model_selection import ClassDisjointSplit

data = load_wikipedia()
X, y = data.data, data.target

# Five classes are seen in training, the other five are new at query time.
seen, unseen = next(ClassDisjointSplit(n_splits=1, random_state=0).split(X, y))
pipe = make_gcrdp_pipeline(n_image_features=data.n_image_features, random_state=0)
pipe.fit(X[seen], y[seen])
print(f"unseen-class mAP (mean of both directions): {pipe.score(X[unseen], y[unseen]):.4f}")

# A text gallery of the unseen classes, embedded once without any image...
texts = X[unseen, data.n_image_features:]
gallery = embed_modality(pipe, texts, "text")
retriever = CrossModalRetriever(n_neighbors=5).fit_gallery(gallery, y[unseen], modality="text")

# ...searched later by image queries embedded on their own.
images = X[unseen[:3], : data.n_image_features]
distances, indices = retriever.kneighbors(embed_modality(pipe, images, "image"), query_modality="image")
for query, (row, dist) in enumerate(zip(indices, distances)):
    names = data.target_names[y[unseen][row]].tolist()
    print(f"image of class {str(data.target_names[y[unseen[query]]])!r}: top texts {names}, "
          f"cosine distances {np.round(dist.astype(float), 3).tolist()}")
