"""
Your own pictures and captions
==============================

A folder of picture files and a CSV of captions, from raw files to a saved
model that answers a typed query.

The pictures here are 48 Open Clip Art drawings of 6 classes, written as PNG
files to a temporary folder from the thumbnails that ship with skgcrdp; with
your own data, start at "Read the captions". The encoders keep each
picture's and caption's features in a folder, keyed by the file's content, so
the grid search below encodes each item once although its folds see them
seven times (three splits, fit and score, and the refit), and the saved model
reads the same folder when it embeds the gallery.

Run by hand: ``python examples/plot_own_pictures.py`` (needs
``pip install "skgcrdp[encoders]"``; about 30 s on 2 CPU cores with its
imports).
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from skgcrdp.datasets import load_openclipart

CLASSES = ["animals/birds", "animals/mammals", "food/beverages", "food/fruit", "recreation/music",
           "transportation/roadsigns"]
folder = Path(tempfile.mkdtemp())
data = load_openclipart(with_thumbnails=True)
rows = np.concatenate([np.flatnonzero(data.target == list(data.target_names).index(name))[:8]
                       for name in CLASSES])
(folder / "pictures").mkdir()
for row in rows:
    Image.fromarray(data.thumbnails[row]).save(folder / "pictures" / f"{row}.png")
pd.DataFrame({"file": [f"{row}.png" for row in rows], "caption": data.captions[rows],
              "label": data.target_names[data.target[rows]]}).to_csv(folder / "captions.csv",
                                                                     index=False)

# %%
# Read the captions
# -----------------
# One row per picture: its file name, its caption and its class. The
# pipeline takes the paths and the captions as two columns of one DataFrame.

frame = pd.read_csv(folder / "captions.csv")
frame["picture"] = [str(folder / "pictures" / name) for name in frame["file"]]
y = frame["label"].to_numpy()
print(f"{len(frame)} pictures of {len(set(y))} classes, e.g. {frame['caption'][0]!r}")

# %%
# Search on classes the model has not seen
# ----------------------------------------
# ``memory`` names the folder where the encodings are kept (``verbose=1``
# would show a progress bar with pictures per second and the time left).
# Each split holds out half of the classes; the score is the mAP on them.

from sklearn.model_selection import GridSearchCV

from skgcrdp import ModalityTransformer, make_gcrdp_pipeline
from skgcrdp.encoders import ImageEncoder, SentenceEncoder, cache_info
from skgcrdp.model_selection import ClassDisjointSplit

cache = str(folder / "encodings")
preprocess = ModalityTransformer(image=ImageEncoder(memory=cache), text=SentenceEncoder(memory=cache),
                                 image_columns="picture", text_columns="caption")
pipe = make_gcrdp_pipeline(preprocess=preprocess, random_state=0, extract__max_epochs=5,
                           align__max_epochs=2)
search = GridSearchCV(pipe, {"extract__temperature": [0.1, 0.5]},
                      cv=ClassDisjointSplit(n_splits=3, random_state=0)).fit(frame, y)
print(f"best temperature {search.best_params_['extract__temperature']}, "
      f"unseen-class mAP {search.best_score_:.3f}")
print(f"{cache_info(cache)['entries']} encodings kept for {2 * len(frame)} pictures and captions")

# %%
# Save the model, load it, ask it in words
# ----------------------------------------
# The model file holds no network weights: the encoders load theirs from the
# installed packages. The gallery's pictures are found in the folder of
# encodings, so embedding them costs no network pass.

import skgcrdp
from skgcrdp import CrossModalRetriever, embed_modality
from skgcrdp.plotting import plot_retrieval

path = skgcrdp.save(search.best_estimator_, folder / "pictures.skgcrdp")
model = skgcrdp.load(path)
gallery = CrossModalRetriever(query_modality="text").fit_gallery(
    embed_modality(model, frame["picture"], "image"), modality="image")
query = "a glass of orange juice"
top = gallery.kneighbors(embed_modality(model, [query], "text"), n_neighbors=6,
                         return_distance=False)[0]
print(f"top 6 for {query!r}: {list(y[top])}")
plot_retrieval(query, [np.asarray(Image.open(frame["picture"][i]).convert("RGB")) for i in top],
               query_label="food/beverages", result_labels=y[top])
plt.show()
