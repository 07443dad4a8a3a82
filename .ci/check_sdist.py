"""Check an sdist's listing: complete for a contributor, and nothing built in it.

    python3 .ci/check_sdist.py dist/skgcrdp-X.tar.gz SOURCE_FOLDER

SOURCE_FOLDER holds the files the sdist was built from (.ci/run copies the
files git would commit there); each of them under the package, tests, docs,
examples and scripts must be in the sdist. Exits 1 with the list of problems.
"""

import re
import sys
import tarfile
from pathlib import Path

REQUIRED_FILES = ["README.md", "LICENSE", "CHANGELOG.md", "CONTRIBUTING.md", "pyproject.toml",
                  "MANIFEST.in", "PKG-INFO"]
COMPLETE_FOLDERS = ["skgcrdp", "tests", "docs", "examples", "scripts"]
# Build outputs, caches and generated pages, anywhere in the tree. setuptools'
# own metadata of this sdist (PROJECT.egg-info/ at the root) is allowed.
BUILT = re.compile(r"(^|/)(__pycache__|\.pytest_cache|\.hypothesis|\.ipynb_checkpoints|build|dist)(/|$)"
                   r"|\.py[cod]$|^docs/(_build|auto_examples|api/generated)(/|$)"
                   r"|(^|/)sg_execution_times\.rst$|(^|/)[^/]+\.egg-info(/|$)")


def problems(sdist, source):
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.isfile()]
    root = members[0].name.split("/")[0]
    listed = {m.name.split("/", 1)[1] for m in members if "/" in m.name}
    own_metadata = re.compile(rf"^{re.escape(root.rsplit('-', 1)[0])}\.egg-info/[^/]+$")
    found = [f"{name} is missing." for name in REQUIRED_FILES if name not in listed]
    for folder in COMPLETE_FOLDERS:
        expected = {p.relative_to(source).as_posix() for p in (source / folder).rglob("*") if p.is_file()}
        expected = {name for name in expected if not BUILT.search(name)}
        if not expected:
            found.append(f"{folder}/ is missing from the source folder {source}.")
        found += [f"{name} is missing." for name in sorted(expected - listed)]
    found += [f"{name} is a built file." for name in sorted(listed)
              if BUILT.search(name) and not own_metadata.match(name)]
    return found


if __name__ == "__main__":
    sdist, source = Path(sys.argv[1]), Path(sys.argv[2])
    found = problems(sdist, source)
    if found:
        sys.exit(f"{sdist.name}:\n  " + "\n  ".join(found))
    print(f"{sdist.name}: complete, nothing built.")
