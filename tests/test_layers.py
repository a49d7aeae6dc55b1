"""The app layers (docs/ARCHITECTURE.md): config → the Work domains → the services any domain uses
→ itsm. An import only points down; apps of one layer may import each other, never in a cycle;
itsm imports no other project app. Every import counts, a function-level one too: one that
dodges a cycle is still a cycle. Read from the source with ``ast`` (tests, migrations and bench
are not app code)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS: tuple[tuple[str, ...], ...] = (  # the top first
    ("config",),
    ("incidents", "problems", "changes", "catalog", "knowledge"),
    ("sla", "escalation", "notifications", "oncall"),
    ("itsm",),
)
LAYER = {app: depth for depth, apps in enumerate(LAYERS) for app in apps}

Edge = tuple[str, str]


def project_apps() -> set[str]:
    return {path.parent.name for path in ROOT.glob("*/apps.py")}


def modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.relative_to(ROOT).parts:
            yield path


def imported_names(path: Path, root: Path = ROOT):
    """Every module ``path`` imports, wherever the import statement is, with its line."""
    package = list(path.relative_to(root).parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                yield ".".join([*base, *([node.module] if node.module else [])]), node.lineno
            else:
                yield node.module, node.lineno


def app_imports() -> dict[Edge, list[str]]:
    """(importing app, imported app) → where, for every import of one project app by another."""
    apps = project_apps()
    edges: dict[Edge, list[str]] = defaultdict(list)
    for app in sorted(apps):
        for path in modules(app):
            for name, line in imported_names(path):
                target = name.split(".")[0]
                if target in apps and target != app:
                    edges[app, target].append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def cycles(edges: set[Edge]) -> list[list[str]]:
    """The strongly connected groups of more than one app (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def report(edges: dict[Edge, list[str]]) -> str:
    return "\n".join(f"{a} → {b}: {', '.join(where)}" for (a, b), where in sorted(edges.items()))


def test_every_project_app_has_a_layer():
    assert project_apps() == set(LAYER)


def test_no_app_imports_an_app_of_a_higher_layer():
    upward = {
        edge: where
        for edge, where in app_imports().items()
        if LAYER[edge[1]] < LAYER[edge[0]]
    }
    assert not upward, "Imports pointing up a layer:\n" + report(upward)


def test_apps_of_one_layer_import_each_other_without_a_cycle():
    edges = app_imports()
    same_layer = {
        edge for edge in edges if LAYER[edge[0]] == LAYER[edge[1]]
    }
    found = cycles(same_layer)
    involved = {edge: edges[edge] for edge in same_layer if any(set(edge) <= set(c) for c in found)}
    assert not found, f"Import cycles between apps of one layer {found}:\n" + report(involved)


def test_itsm_imports_no_other_project_app():
    from_itsm = {edge: where for edge, where in app_imports().items() if edge[0] == "itsm"}
    assert not from_itsm, "itsm is the bottom layer; it imports:\n" + report(from_itsm)


def test_the_reader_sees_function_level_and_relative_imports(tmp_path):
    views = tmp_path / "itsm" / "views"
    views.mkdir(parents=True)
    (views / "late.py").write_text("def f():\n    from notifications.services import send\n")
    (views / "relative.py").write_text("from ..models import Work\n")
    found = {name for path in views.glob("*.py") for name, _ in imported_names(path, root=tmp_path)}
    assert found == {"notifications.services", "itsm.models"}


def test_the_cycle_finder_sees_a_cycle_through_three_apps():
    edges = {("sla", "notifications"), ("notifications", "oncall"), ("oncall", "sla"), ("escalation", "sla")}
    assert cycles(edges) == [["notifications", "oncall", "sla"]]
