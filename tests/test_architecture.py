"""What docs/architecture.md promises of the code's shape: no import cycle between
modules (``TYPE_CHECKING`` and function-level imports included), no module over 400
lines, and the layers importing only the ones beneath them."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "geetrio"
MAX_LINES = 400
# what each layer may import (docs/architecture.md, "Layers")
ALLOWED = {
    "errors": set(),
    "_core": {"errors"},
    "metrics": set(),  # a leaf: instruments any layer may record into (issue 20)
    "tracing": set(),  # a leaf too: OpenTelemetry spans, when an SDK is configured
    "logs": {"tracing"},  # JSON log lines with the request and trace ids
    "gob": {"errors"},  # Go's encoding/gob, sans-IO (issue 21)
    "http": {"_core", "errors", "tracing"},
    "discovery": {"http", "_core", "errors"},
    "etcd": {"discovery"},  # kept for code importing geetrio.etcd
    "web": {"http", "metrics", "tracing", "logs", "_core", "errors"},
    "orm": {"metrics", "tracing", "_core", "errors"},
    "cache": {"http", "discovery", "metrics", "tracing", "_core", "errors"},
    "rpc": {"http", "discovery", "metrics", "tracing", "gob", "_core", "errors"},
    "bridge": {"web", "http", "metrics", "_core", "errors"},
}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in known:
                    found.add(full)
                elif target in known:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
    return found - {name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_no_import_cycles() -> None:
    edges = graph()
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycles.append([*trail[trail.index(name) :], name])
            return
        if name in done:
            return
        for target in sorted(edges.get(name, ())):
            if target.startswith(name + "."):  # a package's __init__ importing its modules
                continue
            visit(target, [*trail, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])
    assert cycles == []


def test_no_module_over_400_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_layers_import_only_the_ones_beneath() -> None:
    wrong = defaultdict(set)
    for name, targets in graph().items():
        layer = name.split(".")[1] if "." in name else ""
        if layer not in ALLOWED:
            continue
        for target in targets:
            other = target.split(".")[1] if "." in target else ""
            if other and other != layer and other not in ALLOWED[layer]:
                wrong[name].add(target)
    assert dict(wrong) == {}
