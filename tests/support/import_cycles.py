"""Import cycles in rag, ingest and evals, type-only ones included (``python -m tests.support.import_cycles``).

lint-imports checks the layers and cycles between sibling packages; this also finds a cycle between a package
and its own modules, and any cycle at all between modules. The graph is grimp's (import-linter's own), with
``if TYPE_CHECKING:`` imports kept: a cycle a type checker has to untangle is still a cycle.

One addition to grimp's graph: ``from evals import metrics`` is read by grimp as importing ``evals.metrics``
alone, but it runs ``evals/__init__.py`` and reads a name from it, and tools that count cycles read it as
importing ``evals``. So it counts as importing the package too: with ``evals/__init__.py`` naming
``evals.runner`` for type checkers, ``evals.runner`` doing so made the cycle ``evals -> evals.runner -> evals``.
"""

from __future__ import annotations

import re
import sys
from graphlib import CycleError, TopologicalSorter

import grimp

PACKAGES = ("rag", "ingest", "evals")
_FROM = re.compile(r"\s*from\s+([\w.]+)\s+import\b")


def module_imports() -> dict[str, set[str]]:
    """Each module and the modules it imports (packages by their ``__init__``), TYPE_CHECKING imports included."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False, cache_dir=None)
    imports = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    for importer, imported in [(a, b) for a, targets in imports.items() for b in targets]:
        for detail in graph.get_import_details(importer=importer, imported=imported):
            named = _FROM.match(detail["line_contents"])
            if named and named.group(1) in graph.modules and named.group(1) != importer:
                imports[importer].add(named.group(1))  # the package a module was taken from
    return imports


def package_imports(imports: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between packages: a module counts as its package, a package's ``__init__`` as the package."""
    packages = {m for m in imports if any(other.startswith(m + ".") for other in imports)}

    def home(module: str) -> str:
        return module if module in packages else module.rpartition(".")[0]

    between: dict[str, set[str]] = {home(m): set() for m in imports}
    for importer, targets in imports.items():
        between[home(importer)] |= {home(t) for t in targets} - {home(importer)}
    return between


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle in ``graph`` (its first node repeated at the end), or [] when there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as found:
        return list(reversed(found.args[1]))  # graphlib lists it against the arrows
    return []


if __name__ == "__main__":
    imports = module_imports()
    found = {"modules": cycle(imports), "packages": cycle(package_imports(imports))}
    for level, loop in found.items():
        print(f"a cycle between {level}: {' -> '.join(loop)}" if loop else f"no cycle between {level}")
    sys.exit(1 if any(found.values()) else 0)
