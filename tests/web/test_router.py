"""The trie router on its own: priorities, backtracking, conflicts, normalisation."""

from __future__ import annotations

import pytest

from geetrio.web import Router


def router(*routes: tuple[str, str]) -> Router[str]:
    r: Router[str] = Router()
    for method, pattern in routes:
        r.add(method, pattern, pattern)
    return r


GEE_ROUTES = [
    ("GET", "/"),
    ("GET", "/hello/:name"),
    ("GET", "/hello/b/c"),
    ("GET", "/hi/:name"),
    ("GET", "/assets/*filepath"),
]


@pytest.mark.parametrize(
    ("path", "expected", "params"),
    [
        ("/", "/", {}),
        ("/hello/geektutu", "/hello/:name", {"name": "geektutu"}),
        ("/hello/b/c", "/hello/b/c", {}),
        ("/hi/x", "/hi/:name", {"name": "x"}),
        ("/assets/css/geektutu.css", "/assets/*filepath", {"filepath": "css/geektutu.css"}),
        ("/assets/a", "/assets/*filepath", {"filepath": "a"}),
        ("/hello/", None, None),
        ("/hello/b", "/hello/:name", {"name": "b"}),
        ("/nothing", None, None),
        ("/hello/geektutu/", "/hello/:name", {"name": "geektutu"}),  # trailing slash
        ("//hello//x", "/hello/:name", {"name": "x"}),  # doubled slashes
    ],
)
def test_gee_route_table(path: str, expected: str | None, params: dict[str, str] | None) -> None:
    found = router(*GEE_ROUTES).lookup("GET", path)
    if expected is None:
        assert found is None
    else:
        assert found == (expected, params)


def test_static_beats_param_beats_catchall_at_the_same_depth() -> None:
    r = router(("GET", "/a/b"), ("GET", "/a/:x"), ("GET", "/a/*rest"))
    assert r.lookup("GET", "/a/b") == ("/a/b", {})
    assert r.lookup("GET", "/a/c") == ("/a/:x", {"x": "c"})
    assert r.lookup("GET", "/a/c/d") == ("/a/*rest", {"rest": "c/d"})


def test_backtracking_from_a_dead_static_branch() -> None:
    r = router(("GET", "/hello/b/c"), ("GET", "/hello/:name/d"), ("GET", "/files/*p"))
    assert r.lookup("GET", "/hello/b/d") == ("/hello/:name/d", {"name": "b"})
    assert r.lookup("GET", "/hello/b/c") == ("/hello/b/c", {})
    # a deeper dead end backtracks several levels
    r2 = router(("GET", "/a/b/c/d"), ("GET", "/a/:x/c/e"), ("GET", "/a/*rest"))
    assert r2.lookup("GET", "/a/b/c/e") == ("/a/:x/c/e", {"x": "b"})
    assert r2.lookup("GET", "/a/b/c/f") == ("/a/*rest", {"rest": "b/c/f"})


def test_matching_honours_the_method() -> None:
    r = router(("GET", "/hello/b/c"), ("POST", "/hello/:name/c"))
    assert r.lookup("POST", "/hello/b/c") == ("/hello/:name/c", {"name": "b"})
    assert r.lookup("PUT", "/hello/b/c") is None
    assert r.allowed_methods("/hello/b/c") == ["GET", "HEAD", "POST"]
    assert r.allowed_methods("/nowhere") == []


def test_head_falls_back_to_get() -> None:
    r = router(("GET", "/x"), ("GET", "/p/:id"))
    assert r.lookup("HEAD", "/x") == ("/x", {})
    assert r.lookup("HEAD", "/p/1") == ("/p/:id", {"id": "1"})


def test_trailing_slash_is_the_same_route() -> None:
    r = router(("GET", "/a/"))
    assert r.lookup("GET", "/a") == ("/a/", {})
    with pytest.raises(ValueError, match="/a"):
        r.add("GET", "/a", "again")


def test_catchall_may_be_empty() -> None:
    r = router(("GET", "/static/*filepath"))
    assert r.lookup("GET", "/static/") == ("/static/*filepath", {"filepath": ""})


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("/a/:x", "/a/:y", r"':y'.*'/a/:y'.*':x'.*'/a/:x'"),
        ("/a/*x", "/a/*y", r"'\*y'.*'\*x'.*'/a/\*x'"),
        ("/a/:x/b", "/a/:y/c", r"'/a/:y/c'.*'/a/:x/b'"),
        ("/same", "/same", r"'/same'.*'/same'"),
    ],
)
def test_conflicts_raise_naming_both_patterns(first: str, second: str, message: str) -> None:
    r = router(("GET", first))
    with pytest.raises(ValueError, match=message):
        r.add("GET", second, second)


def test_same_pattern_under_another_method_is_fine() -> None:
    r = router(("GET", "/a/:x"), ("POST", "/a/:x"))
    assert r.lookup("POST", "/a/1") == ("/a/:x", {"x": "1"})


@pytest.mark.parametrize(
    "pattern", ["", "no-slash", "/a/*rest/more", "/a/:", "/a/*", "/a/:x/:x", "/a/:1bad"]
)
def test_malformed_patterns_raise(pattern: str) -> None:
    with pytest.raises(ValueError):
        Router[str]().add("GET", pattern, "x")


class CountingDict(dict):  # type: ignore[type-arg]
    lookups = 0

    def get(self, key, default=None):  # type: ignore[no-untyped-def]
        CountingDict.lookups += 1
        return super().get(key, default)


def lookups_for(route_families: int, path: str) -> tuple[object, int]:
    r: Router[str] = Router()
    for i in range(4321 - route_families + 1, 4322):
        r.add("GET", f"/users/{i}/posts/:post", str(i))
        r.add("GET", f"/users/{i}/posts/:post/edit", f"edit {i}")
    r.add("GET", "/users/:id/posts/latest/feed", "backtracked")
    stack = [r._root]
    while stack:  # swap every node's static table for a counting one
        node = stack.pop()
        node.static = CountingDict(node.static)
        stack.extend(node.static.values())
        stack.extend(n for n in (node.param, node.catchall) if n is not None)
    CountingDict.lookups = 0
    found = r.lookup("GET", path)
    return found, CountingDict.lookups


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users/4321/posts/7", ("4321", {"post": "7"})),
        ("/users/4321/posts/latest/feed", ("backtracked", {"id": "4321"})),  # backtracks
    ],
)
def test_lookup_cost_does_not_grow_with_the_number_of_routes(path: str, expected: object) -> None:
    """O(depth): one route family or 5,000, a lookup touches the same child tables."""
    few = lookups_for(1, path)
    many = lookups_for(5000, path)
    assert few[0] == many[0] == expected
    assert few[1] == many[1] <= 3 * len(path.split("/"))
