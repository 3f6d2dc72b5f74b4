"""The code's rooms: scorecards may import partners, never the reverse, and no module of the
project imports itself round a cycle (read from the source, as ``ast`` sees the imports)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mso_eval", "partners", "scorecards")


def _module(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """The project modules a file imports, at any depth of the file (lazy imports too)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def _graph():
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")
             if "migrations" not in p.parts]  # fmt: skip
    modules = {_module(p) for p in files}
    return {_module(p): {m for m in _imports(p) if m in modules} - {_module(p)} for p in files}


def test_partners_never_imports_scorecards():
    offending = {m: sorted(i for i in imports if i.startswith("scorecards"))
                 for m, imports in _graph().items() if m.startswith("partners")}  # fmt: skip
    assert {m: i for m, i in offending.items() if i} == {}


def test_no_import_cycles():
    graph = _graph()
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


# Computation kept apart from Django, tested fast and exactly: none of these imports Django,
# itself or through another module of the project.
PURE = ("scorecards.statistics", "scorecards.scoring", "scorecards.claims", "scorecards.profile",
        "scorecards.comparison", "scorecards.documents", "scorecards.reports.summary",
        "partners.csvfiles", "partners.surveys.formats", "partners.formatting")  # fmt: skip


def _all_imports(path):
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.add(node.module)
    return found


def test_pure_modules_import_no_django():
    graph = _graph()
    files = {_module(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    for module in PURE:
        seen, todo = set(), [module]
        while todo:
            current = todo.pop()
            if current in seen or current not in files:
                continue
            seen.add(current)
            assert not any(name.split(".")[0] == "django" for name in _all_imports(
                files[current])), f"{module} imports Django through {current}"  # fmt: skip
            todo.extend(graph.get(current, ()))
