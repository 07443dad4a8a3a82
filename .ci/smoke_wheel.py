"""Smoke test of the installed wheel, as a user gets it.

.ci/run installs the wheel built from the checkout (with the [safe] extra)
in a fresh virtual environment and runs this file with that environment's
``python -I`` from a folder outside the checkout, so that only the installed
package can be imported.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

import skgcrdp
from skgcrdp import gcrdp_params, make_gcrdp_pipeline
from skgcrdp.datasets import load_openclipart, load_wikipedia

installed = Path(skgcrdp.__file__).resolve()
assert installed.is_relative_to(Path(sys.prefix).resolve()), (
    f"skgcrdp must be imported from the virtual environment {sys.prefix}, got {installed}.")

# Both data sets ship inside the package.
wikipedia = load_wikipedia()
openclipart = load_openclipart(with_thumbnails=True)
assert wikipedia.data.shape == (2866, 138), wikipedia.data.shape
assert openclipart.data.shape == (2114, 1664), openclipart.data.shape
assert openclipart.thumbnails.shape == (2114, 56, 56, 3), openclipart.thumbnails.shape

# A short fit on a few classes, then a save and a load that keep the predictions.
X, y = load_wikipedia(subset="train", return_X_y=True)
X, y = X[y < 4], y[y < 4]
pipe = make_gcrdp_pipeline(wikipedia.n_image_features, random_state=0, device="cpu")
pipe.set_params(**gcrdp_params(pipe, {"extract__max_epochs": 2, "align__max_epochs": 2}))
pipe.fit(X, y)
predicted = pipe.predict(X)
with tempfile.TemporaryDirectory() as folder:
    path = skgcrdp.save(pipe, Path(folder) / "gcrdp.skgcrdp")
    loaded = skgcrdp.load(path)
np.testing.assert_array_equal(loaded.predict(X), predicted)
np.testing.assert_array_equal(loaded[:-1].transform(X), pipe[:-1].transform(X))
print(f"skgcrdp {skgcrdp.__version__} from {installed.parent}: data sets load, fit, save and load agree "
      f"(score {pipe.score(X, y):.3f}).")
