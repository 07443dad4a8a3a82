"""The public API's docstrings follow CONTRIBUTING.md: each summary line starts with a verb.

A summary that opens with an article is a noun phrase ("The loss of a batch."), where numpydoc and
scikit-learn say what the function does ("Compute the loss of a batch."). Checked: the functions
and classes of every public module's ``__all__`` and the public methods of those classes, grouped
by the module that defines them (the file to edit).
"""

import importlib
import inspect
import pkgutil
import warnings
from collections import defaultdict

import pytest

import skgcrdp

NOUN_PHRASE_OPENINGS = ("The ", "A ", "An ")

def public_modules():
    """Import skgcrdp and each of its modules whose dotted name has no private part."""
    yield skgcrdp
    for info in pkgutil.walk_packages(skgcrdp.__path__, "skgcrdp."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield importlib.import_module(info.name)


def public_methods(cls):
    """Yield the public methods of ``cls`` that skgcrdp defines, inherited ones included."""
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] != "skgcrdp":
            continue
        for name, member in vars(klass).items():
            if isinstance(member, classmethod | staticmethod):
                member = member.__func__
            if not name.startswith("_") and inspect.isfunction(member):
                yield member


def public_api():
    """Map each defining module to the ``{qualified name: object}`` of its public API."""
    found = defaultdict(dict)
    for module in public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if obj.__module__.split(".")[0] != "skgcrdp":
                continue
            found[obj.__module__][obj.__qualname__] = obj
            if inspect.isclass(obj):
                for method in public_methods(obj):
                    found[method.__module__][method.__qualname__] = method
    return found


PUBLIC_API = public_api()


def summary_line(obj):
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def test_the_public_api_is_found():
    names = {name for objects in PUBLIC_API.values() for name in objects}
    assert {"make_gcrdp_pipeline", "CrossModalRetriever", "CrossModalRetriever.kneighbors",
            "load_wikipedia", "ClassDisjointSplit.split"} - names == set()
    # What private modules define and public ones export counts too.
    assert any("._" in module for module in PUBLIC_API)
    assert len(names) > 50


@pytest.mark.parametrize("module", sorted(PUBLIC_API))
def test_summary_lines_start_with_a_verb(module):
    wrong = {name: summary_line(obj) for name, obj in PUBLIC_API[module].items()
             if not summary_line(obj) or summary_line(obj).startswith(NOUN_PHRASE_OPENINGS)}
    assert not wrong, f"summaries that are missing or open with a noun phrase: {wrong}"
