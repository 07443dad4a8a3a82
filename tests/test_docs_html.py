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
        wanted = public_methods(cls)
        if wanted - shown:
            missing.append(f"{page.name}: {sorted(wanted - shown)}")
    assert len(estimator_pages()) >= 10
    assert not missing, "API pages lack methods:\n" + "\n".join(missing)


def public_methods(cls):
    """The public methods an estimator page documents, its inherited ones included."""
    wanted = {"fit", "transform" if hasattr(cls, "transform") else "kneighbors"}
    if hasattr(cls, "transform"):
        wanted.add("get_feature_names_out")
    wanted |= {n for n, member in inspect.getmembers(cls, inspect.isfunction)
               if not n.startswith("_") and n not in ("set_fit_request", "set_score_request",
                                                       "set_transform_request")}
    return wanted


def methods_table(html):
    """Method names in the "Methods" summary table of a class page, in order; None without one."""
    found = re.search(r'<p class="rubric">Methods</p>\s*(?:<div[^>]*>\s*)?<table[^>]*>(.*?)</table>',
                      html, flags=re.S)
    if found is None:
        return None
    return re.findall(r'<a class="reference internal" href="#[\w.]+\.(\w+)"', found.group(1))


def test_every_estimator_page_has_a_methods_summary_table_like_scikit_learns():
    # As on scikit-learn's class pages: one row per public method, linking
    # to its entry further down the page, before the entries themselves.
    problems = []
    for page, cls, full in estimator_pages():
        html = page.read_text(encoding="utf-8")
        listed = methods_table(html)
        if listed is None:
            problems.append(f"{page.name}: no methods table")
            continue
        if public_methods(cls) - set(listed):
            problems.append(f"{page.name}: table lacks {sorted(public_methods(cls) - set(listed))}")
        first_entry = html.find(f'id="{full}.{listed[0]}"')
        if not 0 < html.find('<p class="rubric">Methods</p>') < first_entry:
            problems.append(f"{page.name}: the table comes after the methods")
    assert not problems, "\n".join(problems)


def test_torch_modules_list_their_own_methods_not_torchs():
    html = (SITE / "api" / "generated" / "skgcrdp.nn.ModalityHeads.html").read_text(encoding="utf-8")
    listed = methods_table(html)
    assert "forward" in listed and not {"cuda", "state_dict", "zero_grad"} & set(listed), listed


def test_benchmark_methods_are_a_table_of_names_and_descriptions():
    from skgcrdp.benchmark import METHODS

    html = (SITE / "api" / "generated" / "skgcrdp.benchmark.METHODS.html").read_text(encoding="utf-8")
    assert "&lt;function" not in html and "&lt;locals&gt;" not in html  # no dict repr
    rows = re.findall(r"<tr[^>]*>\s*<td><p>([^<]+)</p></td>\s*<td><p>([^<]+)</p></td>", html)
    assert [name for name, _ in rows] == list(METHODS)
    assert dict(rows)["PLS"] == METHODS["PLS"].kind


def test_api_pages_link_guide_pages_by_title_not_by_repository_path():
    generated = sorted((SITE / "api" / "generated").glob("*.html"))
    named = [p.name for p in generated if "docs/user_guide" in p.read_text(encoding="utf-8")]
    assert not named, f"repository paths as plain text on {named}"
    extractor = (SITE / "api" / "generated" / "skgcrdp.GMMFeatureExtractor.html").read_text()
    links = re.findall(r'href="\.\./\.\./user_guide/method\.html"[^>]*>(?:<[^>]+>)*([^<]+)<', extractor)
    assert links and not any(text.endswith(".md") for text in links), links


def test_wide_tables_scroll_inside_the_content_column():
    # The theme wraps each table in a container; the site's style sheet makes
    # it scroll sideways with a visible scroll bar rather than clip.
    css = (SITE / "_static" / "custom.css").read_text(encoding="utf-8")
    assert re.search(r"\.pst-scrollable-table-container[^{]*\{[^}]*overflow-x: auto", css)
    benchmark = (SITE / "user_guide" / "benchmark.html").read_text(encoding="utf-8")
    assert benchmark.count("<table") == benchmark.count('class="pst-scrollable-table-container"')


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
