"""Write the intersphinx inventories of scikit-learn, numpy, torch and skorch, offline.

    python3 docs/make_inventories.py        # rewrites docs/_inventories/*.inv

The documentation builds without a network, so it cannot fetch these projects'
``objects.inv``. This script writes the equivalent from the installed packages:
each public class and function, with the address that project's API reference
gives it (the URL schemes below). The files are committed; run the script again
after a dependency's API changes. Only objects are listed (no labels or glossary
terms): enough for the docs' links to scikit-learn, numpy, torch and skorch names.
"""

import importlib
import inspect
import pkgutil
import zlib
from pathlib import Path

OUT = Path(__file__).parent / "_inventories"


def _public(module_name, skip=()):
    """(full name, kind) of the public classes and functions a module exports."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    for name in names:
        if name.startswith("_") or name in skip:
            continue
        obj = getattr(module, name, None)
        if inspect.isclass(obj):
            yield f"{module_name}.{name}", "class"
        elif inspect.isfunction(obj) or inspect.isbuiltin(obj) or type(obj).__name__ == "ufunc":
            yield f"{module_name}.{name}", "function"


def sklearn_objects():
    import sklearn

    for info in pkgutil.iter_modules(sklearn.__path__):
        if info.name.startswith("_") or info.name in ("tests", "externals", "conftest"):
            continue
        try:
            found = list(_public(f"sklearn.{info.name}"))
        except ImportError:
            continue
        for name, kind in found:
            yield name, kind, f"modules/generated/{name}.html#{name}"


def numpy_objects():
    import numpy

    for name, kind in _public("numpy"):
        obj = getattr(numpy, name.split(".", 1)[1])
        if inspect.isclass(obj) and issubclass(obj, numpy.generic):
            # Scalar types (float32, int64...) share one page.
            yield name, kind, f"reference/arrays.scalars.html#{name}"
        else:
            yield name, kind, f"reference/generated/{name}.html#{name}"


def torch_objects():
    for module in ("torch", "torch.nn", "torch.optim"):
        for name, kind in _public(module):
            if name == "torch.Tensor":
                yield name, kind, "tensors.html#torch.Tensor"
            else:
                yield name, kind, f"generated/{name}.html#{name}"


def skorch_objects():
    pages = {"skorch.net": "net.html", "skorch.callbacks": "callbacks.html",
             "skorch.dataset": "dataset.html", "skorch.helper": "helper.html"}
    for module, page in pages.items():
        for name, kind in _public(module):
            defined = getattr(importlib.import_module(module), name.rsplit(".", 1)[1])
            home = getattr(defined, "__module__", module) or module
            target = f"{home}.{defined.__name__}" if home.startswith("skorch") else name
            yield name, kind, f"{page}#{target}"


def write(project, version, objects, path):
    lines = sorted({f"{name} py:{kind} 1 {uri} -" for name, kind, uri in objects})
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")
    path.write_bytes(header.encode() + zlib.compress(("\n".join(lines) + "\n").encode(), 9))
    return len(lines)


def main():
    import numpy
    import sklearn
    import skorch
    import torch

    OUT.mkdir(exist_ok=True)
    for project, module, objects in (("scikit-learn", sklearn, sklearn_objects()),
                                     ("NumPy", numpy, numpy_objects()),
                                     ("PyTorch", torch, torch_objects()),
                                     ("skorch", skorch, skorch_objects())):
        key = module.__name__
        count = write(project, module.__version__.split("+")[0], objects, OUT / f"{key}.inv")
        print(f"{key}: {count} objects")


if __name__ == "__main__":
    main()
