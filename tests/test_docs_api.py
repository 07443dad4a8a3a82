"""Every public name of every public module has an entry in the API reference."""

import importlib
import pkgutil
import re
from pathlib import Path

import skgcrdp

INDEX = Path(__file__).parent.parent / "docs" / "api" / "index.rst"


def public_modules():
    """skgcrdp and each module whose dotted path has no private part."""
    names = ["skgcrdp"]
    for info in pkgutil.walk_packages(skgcrdp.__path__, "skgcrdp."):
        parts = info.name.split(".")
        if not any(p.startswith("_") for p in parts):
            names.append(info.name)
    return names


def documented():
    """The objects that have an entry, whatever path names them there."""
    objects, module = {}, None
    for line in INDEX.read_text().splitlines():
        found = re.match(r"\.\. currentmodule:: ([\w.]+)", line)
        if found:
            module = importlib.import_module(found.group(1))
        elif re.match(r"^   [A-Za-z_]\w*$", line):
            objects[id(getattr(module, line.strip()))] = f"{module.__name__}.{line.strip()}"
    return objects


def test_every_public_module_says_what_it_exports():
    missing = [m for m in public_modules() if not hasattr(importlib.import_module(m), "__all__")]
    assert not missing, f"give these modules an __all__: {missing}"


def test_every_public_name_is_in_the_api_reference():
    entries = documented()
    missing = []
    for name in public_modules():
        module = importlib.import_module(name)
        for attribute in module.__all__:
            value = getattr(module, attribute)
            if isinstance(value, (str, int, float, tuple)):
                continue   # constants are described where they are used
            if id(value) not in entries:
                missing.append(f"{name}.{attribute}")
    assert not missing, f"add these to docs/api/index.rst: {sorted(missing)}"
