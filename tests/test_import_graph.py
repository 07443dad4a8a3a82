"""The package's import graph: no cycles, no upward reach into other packages' private parts.

Every import statement counts, those inside functions too, since a cycle
hidden in a function is still a cycle.
"""

import ast
from pathlib import Path

import skgcrdp

ROOT = Path(skgcrdp.__file__).parent
# scikit-learn's private API is reached through this module only.
COMPAT = "skgcrdp.utils._compat"


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(name, path):
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports(path):
    """``(target module, imported name or None, line)`` of every import in one file."""
    name = module_name(path)
    package = package_of(name, path)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                yield target, alias.name, node.lineno


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def resolve(target, name):
    """The skgcrdp module an import reaches: ``from pkg import mod`` reaches ``pkg.mod``."""
    if name and f"{target}.{name}" in MODULES:
        return f"{target}.{name}"
    return target


def graph():
    edges = {}
    for name, path in MODULES.items():
        edges[name] = {resolve(t, n) for t, n, _ in imports(path)
                       if t.split(".")[0] == "skgcrdp" and resolve(t, n) != name}
        # Importing a submodule runs its package's __init__ first, unless that
        # package is one the importer itself lives in (it is running already).
        parents = {".".join(m.split(".")[:i]) for m in set(edges[name])
                   for i in range(1, m.count(".") + 1)}
        edges[name] |= {p for p in parents if not (name + ".").startswith(p + ".")}
    return edges


def find_cycle(edges):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in MODULES:
                continue
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def is_private(dotted):
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def test_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def private_imports():
    """Imports that reach into another package's private modules or names."""
    found = []
    for name, path in MODULES.items():
        own = package_of(name, path)
        for target, imported, line in imports(path):
            where = f"{path.relative_to(ROOT.parent)}:{line} {target}.{imported}"
            if target.split(".")[0] != "skgcrdp":
                if name != COMPAT and (is_private(target) or (imported or "").startswith("_")):
                    found.append(f"{where} (reach it through {COMPAT})")
                continue
            reached = resolve(target, imported)
            if reached == COMPAT:
                continue
            seen_as = reached
            if reached == own or reached.startswith(own + "."):
                seen_as = reached[len(own) + 1:]
                if "." not in seen_as or seen_as.startswith("_"):
                    continue   # a module of its own package, or its own private subpackage
            private_name = (imported or "").startswith("_") and reached == target
            if is_private(seen_as) or private_name:
                found.append(where)
    return found


def test_no_private_name_is_imported_from_outside_its_own_package():
    """A package's private modules and names are its own: other packages use public paths.

    Allowed: anything within one package directory, and a package reaching
    into its own private subpackages (``skgcrdp`` into ``skgcrdp._search``).
    Everything else goes through public names (``skgcrdp.utils`` for what
    the stages share) or, for scikit-learn's private API, the compat module.
    """
    found = private_imports()
    assert not found, "private imports across packages:\n" + "\n".join(found)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"skgcrdp.a": {"skgcrdp.b"}, "skgcrdp.b": {"skgcrdp.a"}}) is None  # not modules
    edges = {m: set() for m in MODULES}
    edges["skgcrdp.pipeline"] = {"skgcrdp.union"}
    edges["skgcrdp.union"] = {"skgcrdp.pipeline"}
    assert find_cycle(edges) == ["skgcrdp.pipeline", "skgcrdp.union", "skgcrdp.pipeline"]


# The product: what a user of GCRDP runs. The baselines are there to compare
# with, and the product must work without them.
PRODUCT = ["skgcrdp.alignment", "skgcrdp.extraction", "skgcrdp.pipeline", "skgcrdp.profiles",
           "skgcrdp.retrieval", "skgcrdp.union"]


def reachable(edges, start):
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_product_needs_no_baseline():
    edges = graph()
    found = [m for m in PRODUCT if "skgcrdp.baselines" in reachable(edges, m)]
    assert not found, f"these reach skgcrdp.baselines: {found}"


def test_no_module_name_is_used_twice():
    by_name = {}
    for name in MODULES:
        last = name.rpartition(".")[2]
        if last not in ("__init__", "__main__") and name != "skgcrdp":
            by_name.setdefault(last, []).append(name)
    twice = {k: v for k, v in by_name.items() if len(v) > 1}
    assert not twice, f"one name, one home: {twice}"


def test_no_compatibility_code_for_unreleased_names():
    # No version of skgcrdp before this one was published: no name needs a
    # deprecation period.
    found = [f"{path.relative_to(ROOT.parent)}" for path in MODULES.values()
             if "FutureWarning" in path.read_text() or "deprecated" in path.read_text()]
    assert not found, f"deprecation shims in {found}"


SCRIPTS = ROOT.parent / "scripts"


def test_scripts_use_the_public_api_only():
    """Scripts import public names of skgcrdp only, no sibling script and no path edits."""
    siblings = {p.stem for p in SCRIPTS.glob("*.py")}
    found = []
    for path in sorted(SCRIPTS.glob("*.py")):
        text = path.read_text()
        if "sys.path" in text:
            found.append(f"{path.name}: edits sys.path")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else ["." * node.level]
                names += [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if node.__class__ is ast.ImportFrom and node.level:
                    found.append(f"{path.name}:{node.lineno} relative import")
                elif top in siblings:
                    found.append(f"{path.name}:{node.lineno} imports the script {top}")
                elif top == "skgcrdp" and (is_private(name) or name.endswith("__main__")):
                    found.append(f"{path.name}:{node.lineno} imports {name}")
    assert not found, "scripts reach inside the package:\n" + "\n".join(found)
