"""Print the lowest versions that pyproject.toml declares, as pins for pip.

    python3 .ci/lowest.py > lowest.txt && pip install -r lowest.txt

Each ``name>=X`` of the project's dependencies becomes ``name==X``, so the
pins follow the declaration instead of a list kept by hand. torch is left
out: CI keeps the pinned CPU build it installed first (a CUDA build of an
old release would be several GB).
"""

import re
import sys
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
KEPT_AS_INSTALLED = {"torch"}


def lowest_pins(dependencies):
    pins = []
    for requirement in dependencies:
        found = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([\w.]+)", requirement.strip())
        if found is None:
            sys.exit(f"{requirement!r} has no plain lower bound (name>=version) to test.")
        name, version = found.groups()
        if name not in KEPT_AS_INSTALLED:
            pins.append(f"{name}=={version}")
    return pins


if __name__ == "__main__":
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    print("\n".join(lowest_pins(project["dependencies"])))
