"""Every public name has an entry in the API reference (docs/api/index.rst)."""

import importlib
import re
from pathlib import Path

INDEX = Path(__file__).parent.parent / "docs" / "api" / "index.rst"
MODULES = ["skgcrdp", "skgcrdp.datasets", "skgcrdp.benchmark", "skgcrdp.nn", "skgcrdp.exceptions",
           "skgcrdp.union",
           "skgcrdp.model_selection", "skgcrdp.baselines", "skgcrdp.metrics", "skgcrdp.encoders"]


def documented():
    names, module = set(), None
    for line in INDEX.read_text().splitlines():
        found = re.match(r"\.\. currentmodule:: ([\w.]+)", line)
        if found:
            module = found.group(1)
        elif re.match(r"^   [A-Za-z_]\w*$", line):
            names.add(f"{module}.{line.strip()}")
    return names


def public(module_name):
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:  # modules without __all__: what they define, not what they import
        names = [n for n, v in vars(module).items() if not n.startswith("_")
                 and getattr(v, "__module__", module_name) == module_name
                 and not isinstance(v, (str, tuple, dict, int, float, type(re)))]
    return {f"{module_name}.{n}" for n in names}


def test_every_public_name_is_in_the_api_reference():
    missing = set().union(*(public(m) for m in MODULES)) - documented()
    assert not missing, f"add these to docs/api/index.rst: {sorted(missing)}"
