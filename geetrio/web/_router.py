"""The trie router: static segments, ``:name`` parameters, ``*name`` catch-alls.

A leaf module (no I/O, nothing from the layers above). Priority at each depth is
static > ``:param`` > ``*catchall``, with backtracking: when the static branch dead-ends
the parameter branch is tried, then the catch-all. Matching honours the method, so
``GET /hello/b/c`` and ``POST /hello/:name/c`` both resolve as expected. Conflicting
wildcards (``/a/:x`` next to ``/a/:y``) and duplicates raise ``ValueError`` naming
both patterns. Fully static patterns also live in a dict, so the common case is one
lookup; everything else costs O(path depth).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

__all__ = ["Router", "normalize_pattern"]

T = TypeVar("T")


def _split(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    if "" in parts:  # "/" itself, or doubled slashes
        parts = [part for part in parts if part]
    return parts


def normalize_pattern(pattern: str) -> str:
    """``/a//b/`` -> ``/a/b``; raises ``ValueError`` for a malformed pattern."""
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        raise ValueError(f"route pattern must start with '/': {pattern!r}")
    parts = _split(pattern)
    names: set[str] = set()
    for i, part in enumerate(parts):
        if part[0] in ":*":
            name = part[1:]
            if not name.isidentifier():
                raise ValueError(f"wildcard {part!r} in {pattern!r} needs a name")
            if name in names:
                raise ValueError(f"wildcard name {name!r} repeats in {pattern!r}")
            names.add(name)
            if part[0] == "*" and i != len(parts) - 1:
                raise ValueError(f"catch-all {part!r} must be the last segment of {pattern!r}")
    return "/" + "/".join(parts)


class _Node(Generic[T]):
    __slots__ = ("catchall", "catchall_name", "origin", "param", "param_name", "routes", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = {}
        self.param: _Node[T] | None = None
        self.param_name = ""
        self.catchall: _Node[T] | None = None
        self.catchall_name = ""
        self.routes: dict[str, tuple[str, T]] = {}  # method -> (pattern, value)
        self.origin = ""  # the pattern that created this node (for conflict messages)


def _accepts(routes: dict[str, tuple[str, T]], method: str | None) -> bool:
    if method is None:
        return bool(routes)
    return method in routes or (method == "HEAD" and "GET" in routes)


class Router(Generic[T]):
    """Maps (method, path) to a value and the path's parameters.

    >>> r = Router[str]()
    >>> r.add("GET", "/hello/:name", "hello")
    >>> r.lookup("GET", "/hello/geektutu")
    ('hello', {'name': 'geektutu'})
    """

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self._static: dict[str, dict[str, T]] = {}  # path -> method -> value

    def add(self, method: str, pattern: str, value: T) -> None:
        normalized = normalize_pattern(pattern)
        node = self._root
        for part in _split(normalized):
            node = self._child(node, part, pattern)
        if method in node.routes:
            existing = node.routes[method][0]
            raise ValueError(f"{method} {pattern!r} conflicts with existing route {existing!r}")
        node.routes[method] = (pattern, value)
        if ":" not in normalized and "*" not in normalized:
            self._static.setdefault(normalized, {})[method] = value

    @staticmethod
    def _child(node: _Node[T], part: str, pattern: str) -> _Node[T]:
        kind, name = part[0], part[1:]
        if kind == ":":
            if node.param is None:
                node.param, node.param_name = _Node(), name
                node.param.origin = pattern
            elif node.param_name != name:
                raise ValueError(
                    f"wildcard {part!r} in {pattern!r} conflicts with "
                    f"':{node.param_name}' in existing route {node.param.origin!r}"
                )
            return node.param
        if kind == "*":
            if node.catchall is None:
                node.catchall, node.catchall_name = _Node(), name
                node.catchall.origin = pattern
            elif node.catchall_name != name:
                raise ValueError(
                    f"catch-all {part!r} in {pattern!r} conflicts with "
                    f"'*{node.catchall_name}' in existing route {node.catchall.origin!r}"
                )
            return node.catchall
        child = node.static.get(part)
        if child is None:
            child = node.static[part] = _Node()
            child.origin = pattern
        return child

    def lookup(self, method: str, path: str) -> tuple[T, dict[str, str]] | None:
        """The value for ``method`` on ``path`` and its parameters, or None.
        HEAD falls back to the GET route."""
        methods = self._static.get(path)
        if methods is not None:
            value = methods.get(method)
            if value is None and method == "HEAD":
                value = methods.get("GET")
            if value is not None:
                return value, {}
        parts = _split(path)
        params: dict[str, str] = {}
        node = self._walk(parts, params, method)
        if node is None:
            params = {}
            node = self._search(self._root, parts, 0, params, method)
            if node is None:
                return None
        routes = node.routes
        entry = routes.get(method) or routes["GET"]  # _accepts guarantees one of them
        return entry[1], params

    def allowed_methods(self, path: str) -> list[str]:
        """Methods some route accepts for ``path`` (HEAD wherever GET is); empty if
        no route matches the path at all."""
        methods: set[str] = set()
        self._collect(self._root, _split(path), 0, methods)
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods)

    def routes(self) -> Iterable[tuple[str, str, T]]:
        """Every (method, pattern, value), for debugging pages and tests."""
        stack = [self._root]
        while stack:
            node = stack.pop()
            for method, (pattern, value) in node.routes.items():
                yield method, pattern, value
            stack.extend(node.static.values())
            stack.extend(n for n in (node.param, node.catchall) if n is not None)

    def _walk(self, parts: list[str], params: dict[str, str], method: str) -> _Node[T] | None:
        """The greedy path (static, else parameter, else catch-all) without backtracking.
        When it succeeds it is the first match the backtracking search would find, since
        that search tries children in the same order; when it fails, ``_search`` runs."""
        node = self._root
        for i, part in enumerate(parts):
            child = node.static.get(part)
            if child is None:
                child = node.param
                if child is None:
                    catchall = node.catchall
                    if catchall is not None and _accepts(catchall.routes, method):
                        params[node.catchall_name] = "/".join(parts[i:])
                        return catchall
                    return None
                params[node.param_name] = part
            node = child
        return node if _accepts(node.routes, method) else None

    def _search(
        self, node: _Node[T], parts: list[str], i: int, params: dict[str, str], method: str | None
    ) -> _Node[T] | None:
        if i == len(parts):
            if _accepts(node.routes, method):
                return node
            catchall = node.catchall
            if catchall is not None and _accepts(catchall.routes, method):
                params[node.catchall_name] = ""
                return catchall
            return None
        part = parts[i]
        child = node.static.get(part)
        if child is not None:
            found = self._search(child, parts, i + 1, params, method)
            if found is not None:
                return found
        if node.param is not None:
            found = self._search(node.param, parts, i + 1, params, method)
            if found is not None:
                params[node.param_name] = part
                return found
        catchall = node.catchall
        if catchall is not None and _accepts(catchall.routes, method):
            params[node.catchall_name] = "/".join(parts[i:])
            return catchall
        return None

    def _collect(self, node: _Node[T], parts: list[str], i: int, methods: set[str]) -> None:
        if i == len(parts):
            methods.update(node.routes)
            if node.catchall is not None:
                methods.update(node.catchall.routes)
            return
        child = node.static.get(parts[i])
        if child is not None:
            self._collect(child, parts, i + 1, methods)
        if node.param is not None:
            self._collect(node.param, parts, i + 1, methods)
        if node.catchall is not None:
            methods.update(node.catchall.routes)
