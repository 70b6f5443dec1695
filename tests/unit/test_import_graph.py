"""The layers of chalicelib point down, and its import graph has no circle (every import statement counts,
the ones inside functions too): routes and jobs → services → repositories → core, networks beside core."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"
TOP = ("_routes", "_jobs")
# Plain data shared by a feature's layers (no I/O): below its services, beside its repositories.
DATA = ("conversation_filter", "stored_events", "slots")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> list[tuple[str, bool]]:
    """(module, only for type checking) for every chalicelib module `path` imports."""
    tree = ast.parse(path.read_text())
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found += [(name, id(node) in typing_only) for name in names if name in known]
    return found


def layer(module: str) -> int:
    last = module.rsplit(".", 1)[-1]
    if module.startswith(("chalicelib.core", "chalicelib.networks")) or module == "chalicelib":
        return 0
    if last.endswith(TOP) or last in ("admin", "cli", "wiring"):
        return 3
    if last.endswith(("_repository", "_store")) or last in ("tables", "projections") or last in DATA:
        return 1
    return 2  # services, schemas, views


def graph() -> dict[str, list[tuple[str, bool]]]:
    known = modules()
    return {name: [(t, typing) for t, typing in imports(path, known) if t != name] for name, path in known.items()}


def test_no_import_points_up_a_layer() -> None:
    up = [f"{m} -> {t}" for m, targets in graph().items() for t, _ in targets if layer(t) > layer(m)]
    assert not up, "imports up the layers:\n" + "\n".join(sorted(up))


def test_no_route_or_job_uses_a_repository_at_run_time() -> None:
    reaching = [f"{m} -> {t}" for m, targets in graph().items() if m.rsplit(".", 1)[-1].endswith(TOP)
                for t, typing in targets if layer(t) == 1 and not typing and not t.endswith(DATA)]
    assert not reaching, "routes and jobs go through a service:\n" + "\n".join(sorted(reaching))


def test_core_knows_no_feature() -> None:
    features = ("chalicelib.accounts", "chalicelib.publishing", "chalicelib.inbox", "chalicelib.metrics")
    knowing = [f"{m} -> {t}" for m, targets in graph().items() if m.startswith("chalicelib.core")
               for t, _ in targets if t.startswith(features)]
    assert not knowing, "\n".join(sorted(knowing))


def test_the_import_graph_has_no_circle() -> None:
    edges = {m: {t for t, _ in targets} for m, targets in graph().items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)
