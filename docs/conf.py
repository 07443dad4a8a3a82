"""Sphinx configuration of the skgcrdp documentation.

Build (no network needed): python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))
# The gallery runs examples with torch; two threads is what CI has.
os.environ.setdefault("OMP_NUM_THREADS", "2")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

from make_tables import write_tables  # noqa: E402

import skgcrdp  # noqa: E402

project = "skgcrdp"
author = "the skgcrdp developers"
copyright = "2026, the skgcrdp developers"
release = skgcrdp.__version__
version = release
# The results tables the pages include, written from docs/results/ before the pages are read.
write_tables()

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # serves MathJax from the built site, not a CDN
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5",
                    "sg_execution_times.rst"]
templates_path = ["_templates"]

# API pages: one per public name, generated from the numpydoc docstrings.
autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# The build must not need a network: scikit-learn's, numpy's, torch's and
# skorch's inventories are read from docs/_inventories (written offline from
# the installed packages by docs/make_inventories.py), never fetched.
_INVENTORIES = Path(__file__).parent / "_inventories"
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable", str(_INVENTORIES / "sklearn.inv")),
    "numpy": ("https://numpy.org/doc/stable", str(_INVENTORIES / "numpy.inv")),
    "torch": ("https://docs.pytorch.org/docs/stable", str(_INVENTORIES / "torch.inv")),
    "skorch": ("https://skorch.readthedocs.io/en/stable", str(_INVENTORIES / "skorch.inv")),
}
intersphinx_timeout = 1

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "show_memory": False,
    # Its page loads Bootstrap and DataTables from CDNs; each example states
    # its own measured running time instead.
    "write_computation_times": False,
    # Figures also at twice the resolution, for high-density screens.
    "image_srcset": ["2x"],
    # "Examples using X" on each API page: the gallery records which public
    # names each example uses.
    "doc_module": ("skgcrdp",),
    "backreferences_dir": "api/generated/backreferences",
    "reference_url": {"skgcrdp": None},
}

html_theme = "pydata_sphinx_theme"
html_title = f"skgcrdp {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False


# -- what docutils and inherited docstrings would get wrong --------------------

import re  # noqa: E402

from docutils import nodes  # noqa: E402
from sphinx.transforms import SphinxTransform  # noqa: E402

# scikit-learn's docstrings (get_params, set_output... inherited by every
# estimator) refer to labels and glossary terms of scikit-learn's own site.
# With no network there is no inventory to resolve them, so they are shown as
# the plain words they name rather than as broken references.
_FOREIGN_ROLE = re.compile(r":(?:ref|term|doc):`([^`<]*?)\s*(?:<[^>]*>)?`")


def _plain_foreign_roles(app, what, name, obj, options, lines):
    if getattr(obj, "__module__", "") and obj.__module__.split(".")[0] == "sklearn":
        lines[:] = [_FOREIGN_ROLE.sub(lambda m: m.group(1) or "", line) for line in lines]


# Docstrings read in a terminal name a guide page by its path in the
# repository (docs/user_guide/method.md); on the site that becomes a link
# whose text is the page's title.
_GUIDE_PATH = re.compile(r"(?:``)?docs/(user_guide/[\w-]+)\.md(?:``)?")


def _link_guide_pages(app, what, name, obj, options, lines):
    if name.startswith("skgcrdp"):
        lines[:] = [_GUIDE_PATH.sub(r":doc:`/\1`", line) for line in lines]


def _methods_table(app, what, name, obj, options, lines):
    """Document ``skgcrdp.benchmark.METHODS`` as a table generated from it, not as a dict's repr."""
    if name != "skgcrdp.benchmark.METHODS":
        return
    from skgcrdp.benchmark import METHODS

    lines[:] = [
        "The methods the benchmark compares, by the name ``--methods`` and",
        ":func:`run_benchmark` take: a dict of name to :class:`Method`. The",
        "default run leaves out those marked \"no\" (``--full`` runs them).",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - name",
        "     - kind",
        "     - default run",
        "     - description",
    ]
    for method in METHODS.values():
        lines += [f"   * - {method.name}", f"     - {method.kind}",
                  f"     - {'yes' if method.default else 'no'}", f"     - {method.description}"]
    lines.append("")


def _skip_torch_module_members(app, what, name, obj, skip, options):
    """Leave out of the methods tables what a torch module inherits from ``torch.nn.Module``.

    The class pages document the members of skgcrdp and scikit-learn, not
    torch's (``:inherited-members: Module, Sequential, object``); the
    summary tables list the same.
    """
    owner = getattr(obj, "__qualname__", "").split(".")[0]
    if (getattr(obj, "__module__", None) or "").startswith("torch.") and owner in ("Module", "Sequential"):
        return True
    return None


class NoEmailLinks(SphinxTransform):
    """``mAP@all`` and ``recall@10`` name metrics; docutils would link them as e-mail addresses."""

    default_priority = 999

    def apply(self):
        for reference in list(self.document.findall(nodes.reference)):
            if reference.get("refuri", "").startswith("mailto:"):
                reference.replace_self(nodes.Text(reference.astext()))


def setup(app):
    app.connect("autodoc-process-docstring", _plain_foreign_roles)
    app.connect("autodoc-process-docstring", _link_guide_pages)
    app.connect("autodoc-process-docstring", _methods_table)
    app.connect("autodoc-skip-member", _skip_torch_module_members)
    app.add_transform(NoEmailLinks)
