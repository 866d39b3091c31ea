"""The public surface named in SPEC.md: these imports are a contract."""

from __future__ import annotations

import geetrio.http
import geetrio.web


def test_web_exports() -> None:
    from geetrio.web import Context, Engine, RouterGroup, default, logger, recovery

    assert {"Context", "Engine", "RouterGroup", "default", "logger", "recovery"} <= set(
        geetrio.web.__all__
    )
    app = default()
    assert isinstance(app, Engine) and isinstance(app, RouterGroup)
    assert len(app.middlewares) == 2
    assert callable(logger()) and callable(recovery())
    assert Context.__init__ is not None


def test_http_exports_and_server_config_defaults() -> None:
    from geetrio.http import ServerConfig

    assert "ServerConfig" in geetrio.http.__all__
    config = ServerConfig()
    assert (
        config.max_header_bytes,
        config.max_uri_bytes,
        config.max_body_bytes,
        config.header_timeout,
        config.keep_alive_timeout,
        config.max_connections,
        config.grace,
    ) == (65536, 8192, 8 * 1024 * 1024, 10.0, 5.0, None, 5.0)


def test_cache_exports_and_signatures() -> None:
    import inspect

    import geetrio.cache
    from geetrio.cache import (
        Group,
        HashRing,
        HTTPPool,
        LRUCache,
        SingleFlight,
        get_group,
        new_group,
    )

    for name in (
        "LRUCache",
        "SingleFlight",
        "HashRing",
        "Group",
        "new_group",
        "get_group",
        "HTTPPool",
    ):
        assert name in geetrio.cache.__all__
    assert list(inspect.signature(LRUCache).parameters) == ["max_bytes", "on_evicted"]
    assert inspect.signature(HashRing).parameters["replicas"].default == 50
    pool = inspect.signature(HTTPPool).parameters
    assert (pool["base_path"].default, pool["replicas"].default, pool["timeout"].default) == (
        "/_geecache/",
        50,
        1.0,
    )
    assert "ttl" in inspect.signature(new_group).parameters
    assert callable(get_group) and callable(SingleFlight().do) and Group is not None


def test_orm_exports_and_error_hierarchy() -> None:
    from geetrio import orm

    for name in (
        "Engine",
        "open",
        "NotFound",
        "UnsupportedType",
        "UnknownDialect",
        "IntegrityError",
        "ORMError",
    ):
        assert name in orm.__all__
    for error in (orm.NotFound, orm.UnsupportedType, orm.UnknownDialect, orm.IntegrityError):
        assert issubclass(error, orm.ORMError)
    assert issubclass(orm.UnsupportedType, TypeError)
    assert callable(orm.Engine.open) and callable(orm.open)


def test_every_exported_name_exists() -> None:
    import geetrio.cache
    from geetrio import orm

    for module in (geetrio.http, geetrio.web, geetrio.cache, orm):
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_server_config_rejects_nonsense() -> None:
    import pytest

    from geetrio.http import ServerConfig

    for bad in (
        {"max_body_bytes": 0},
        {"header_timeout": 0},
        {"grace": -1},
        {"max_connections": 0},
    ):
        with pytest.raises(ValueError):
            ServerConfig(**bad)  # type: ignore[arg-type]
