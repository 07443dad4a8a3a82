"""The built documentation as a reader gets it: API pages like scikit-learn's, nothing remote.

Runs over ``docs/_build/html`` when it exists (``.ci/run`` builds it, then runs
this file with ``SKGCRDP_DOCS_BUILT=1``, which makes a missing site a failure).
"""

import importlib
import inspect
import os
import re
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

from .test_docs_api import documented

SITE = Path(__file__).parent.parent / "docs" / "_build" / "html"
pytestmark = pytest.mark.skipif(
    not SITE.is_dir() and not os.environ.get("SKGCRDP_DOCS_BUILT"),
    reason="the documentation site is not built (python3 -m sphinx -b html docs docs/_build/html)",
)
REMOTE_LOAD = re.compile(r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)="(?:https?:)?//',
                         re.IGNORECASE)


def pages():
    return sorted(SITE.rglob("*.html"))


def estimator_pages():
    """(page, class) of every public estimator in the API reference."""
    found = []
    for full in documented().values():
        module, _, name = full.rpartition(".")
        obj = getattr(importlib.import_module(module), name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append((SITE / "api" / "generated" / f"{full}.html", obj, full))
    return found


def test_the_site_is_there():
    assert (SITE / "index.html").is_file(), f"no built site at {SITE}"


def test_every_public_estimator_page_lists_its_public_methods():
    missing = []
    for page, cls, full in estimator_pages():
        html = page.read_text(encoding="utf-8")
        shown = set(re.findall(rf'id="{re.escape(full)}\.(\w+)"', html))
        wanted = {"fit"}
        wanted.add("transform" if hasattr(cls, "transform") else "kneighbors")
        if hasattr(cls, "transform"):
            wanted.add("get_feature_names_out")
        # Every public method the class has, its inherited ones included.
        wanted |= {n for n, member in inspect.getmembers(cls, inspect.isfunction)
                   if not n.startswith("_") and n not in ("set_fit_request", "set_score_request",
                                                           "set_transform_request")}
        if wanted - shown:
            missing.append(f"{page.name}: {sorted(wanted - shown)}")
    assert len(estimator_pages()) >= 10
    assert not missing, "API pages lack methods:\n" + "\n".join(missing)


def test_no_page_has_a_mailto_link():
    found = [p.relative_to(SITE) for p in pages()
             if 'href="mailto:' in p.read_text(encoding="utf-8")]
    assert not found, f"mailto: links (an @ in a metric name?) on {found}"


def test_no_page_loads_anything_from_a_remote_host():
    found = [f"{p.relative_to(SITE)}: {m.group(0)[:80]}" for p in pages()
             for m in REMOTE_LOAD.finditer(p.read_text(encoding="utf-8"))]
    assert not found, "pages that load from the network:\n" + "\n".join(found)


def test_no_page_shows_raw_markup():
    # Roles and targets that Sphinx did not turn into links or literals.
    raw = re.compile(r":(?:class|func|meth|ref|term|attr):`|\w_</span>`|``\w")
    found = [str(p.relative_to(SITE)) for p in (SITE / "api" / "generated").glob("*.html")
             if raw.search(re.sub(r"<pre>.*?</pre>", "", p.read_text(encoding="utf-8"), flags=re.S))]
    assert not found, f"raw markup on {found}"


def test_scikit_learn_and_numpy_names_link_to_their_own_docs():
    # Read from the committed inventories (docs/_inventories), never fetched.
    retriever = (SITE / "api" / "generated" / "skgcrdp.CrossModalRetriever.html").read_text()
    assert ('href="https://scikit-learn.org/stable/modules/generated/'
            'sklearn.neighbors.NearestNeighbors.html') in retriever
    pages_linking_numpy = [p for p in pages() if 'href="https://numpy.org/doc/stable/' in
                           p.read_text(encoding="utf-8")]
    assert pages_linking_numpy
