"""The public surface: each package's ``__all__`` pinned exactly (SPEC.md names are a
contract; anything added or removed must show up here on purpose), the signatures
and defaults the SPEC states, and the error hierarchies."""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

import pytest
import trio

import geetrio.bridge
import geetrio.cache
import geetrio.discovery
import geetrio.etcd
import geetrio.gob
import geetrio.http
import geetrio.logs
import geetrio.metrics
import geetrio.tracing
import geetrio.web
from geetrio import orm, rpc

SURFACE: dict[ModuleType, set[str]] = {
    geetrio.logs: {"REQUEST_ID", "JSONFormatter"},
    geetrio.gob: {
        "DEFAULT_MAX_MESSAGE_BYTES",
        "DEFAULT_MAX_TYPES",
        "MAX_DEPTH",
        "NEED_MORE",
        "UINT",
        "Array",
        "Decoder",
        "Encoder",
        "GobError",
        "go_name",
        "go_type",
        "register",
    },
    geetrio.tracing: {
        "CLIENT",
        "INTERNAL",
        "RECHECK_SECONDS",
        "SERVER",
        "client_span",
        "current_ids",
        "extract",
        "failed",
        "span",
        "tracer",
    },
    geetrio.metrics: {
        "DEFAULT_BUCKETS",
        "MAX_SERIES",
        "OVERFLOW",
        "REGISTRY",
        "Counter",
        "Gauge",
        "Histogram",
        "Instrument",
        "Registry",
        "render",
    },
    geetrio.bridge: {
        "DEFAULT_PATH",
        "BadMessage",
        "Bridge",
        "BridgeError",
        "Callback",
        "Page",
        "PageClosed",
    },
    geetrio.http: {
        "ClientError",
        "ClientResponse",
        "HTTPClient",
        "HTTPError",
        "Handler",
        "Headers",
        "PipelinedClient",
        "PrefixedStream",
        "ProtocolError",
        "Request",
        "RequestParser",
        "Response",
        "ResponseParser",
        "RouteContext",
        "Routes",
        "ServerConfig",
        "ServerStats",
        "Transport",
        "bind_slots",
        "client_ssl_context",
        "decode_path",
        "default_max_connections",
        "open_pipelined_client",
        "render_head",
        "run_until_signal",
        "run_workers",
        "serve",
        "serve_listeners",
        "server_ssl_context",
    },
    geetrio.web: {
        "BindError",
        "Check",
        "Context",
        "Engine",
        "FormData",
        "FormLimits",
        "HTTPException",
        "HandlerFunc",
        "Router",
        "RouterGroup",
        "ServerSentEvent",
        "Session",
        "Signer",
        "TestClient",
        "UploadFile",
        "basic_auth",
        "bearer_auth",
        "cors",
        "default",
        "gzip",
        "logger",
        "recovery",
        "request_id",
        "sessions",
        "timeout",
        "trusted_proxies",
    },
    geetrio.cache: {
        "DEFAULT_BASE_PATH",
        "DEFAULT_CLUSTER_PREFIX",
        "BadPeerPath",
        "CacheError",
        "CorruptResponse",
        "Getter",
        "Group",
        "HTTPPool",
        "HashFn",
        "HashRing",
        "LRUCache",
        "PeerError",
        "PeerTimeout",
        "PeerGetter",
        "PeerPicker",
        "SingleFlight",
        "blake2b_32",
        "get_group",
        "join_cluster",
        "new_group",
    },
    orm: {
        "DatabaseError",
        "Dialect",
        "Engine",
        "Field",
        "Index",
        "IntegrityError",
        "NotFound",
        "ORMError",
        "Page",
        "PostgreSQLDialect",
        "Query",
        "QueryCount",
        "Raw",
        "SQLiteDialect",
        "Schema",
        "Session",
        "StandardDialect",
        "UnknownDialect",
        "UnsupportedType",
        "belongs_to",
        "count_queries",
        "created_at",
        "deleted_at",
        "foreign_key",
        "get_dialect",
        "has_many",
        "index",
        "open",
        "quote_identifier",
        "register_dialect",
        "unique",
        "updated_at",
        "utc_now",
    },
    rpc: {
        "DEFAULT_ETCD_PREFIX",
        "DEFAULT_REGISTRY_PATH",
        "MAGIC_NUMBER",
        "Balancer",
        "CallInfo",
        "ClientCall",
        "ClientInterceptor",
        "Client",
        "Codec",
        "Discovery",
        "EtcdDiscovery",
        "FrameDecoder",
        "FrameError",
        "Header",
        "Interceptor",
        "GOB",
        "GobCodec",
        "NET_RPC",
        "JSONCodec",
        "JSONRPC",
        "JSONRPCCodec",
        "Method",
        "MultiServersDiscovery",
        "Option",
        "OptionReader",
        "RPCError",
        "RPCTimeout",
        "RandomBalancer",
        "Refused",
        "Registry",
        "RegistryDiscovery",
        "RegistryFull",
        "RemoteError",
        "RoundRobinBalancer",
        "SelectMode",
        "Server",
        "Service",
        "ShutdownError",
        "StreamCodec",
        "XClient",
        "dial",
        "dial_http",
        "etcd_register",
        "get_codec",
        "heartbeat",
        "open_client",
        "register_codec",
        "client_metrics_interceptor",
        "metrics_interceptor",
        "token_interceptor",
        "xdial",
    },
    geetrio.discovery: {
        "DEFAULT_REGISTRY_PATH",
        "DiscoveryError",
        "DiscoveryTimeout",
        "EtcdClient",
        "EtcdEndpoint",
        "EtcdError",
        "EtcdTimeout",
        "heartbeat",
        "keep_registered",
        "list_servers",
        "prefix_end",
        "watch_prefix",
    },
    geetrio.etcd: {"EtcdClient", "EtcdEndpoint", "EtcdError", "keep_registered", "watch_prefix"},
}


@pytest.mark.parametrize("module", list(SURFACE), ids=lambda m: m.__name__)
def test_each_package_exports_exactly_its_surface(module: ModuleType) -> None:
    assert sorted(module.__all__) == sorted(SURFACE[module])
    assert len(module.__all__) == len(set(module.__all__))  # no name twice
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


def test_web_default_installs_logger_and_recovery() -> None:
    from geetrio.web import Engine, RouterGroup, default

    app = default()
    assert isinstance(app, Engine) and isinstance(app, RouterGroup)
    assert [m.__qualname__.split(".")[0] for m in app.middlewares] == ["logger", "recovery"]


def test_server_config_defaults() -> None:
    from geetrio.http import ServerConfig

    config = ServerConfig()
    assert (
        config.max_header_bytes,
        config.max_uri_bytes,
        config.max_body_bytes,
        config.header_timeout,
        config.body_timeout,
        config.keep_alive_timeout,
        config.send_timeout,
        config.max_connections,
        config.grace,
    ) == (65536, 8192, 8 * 1024 * 1024, 10.0, 60.0, 5.0, 30.0, None, 5.0)


def test_cache_signatures() -> None:
    from geetrio.cache import HashRing, HTTPPool, LRUCache, new_group

    assert list(inspect.signature(LRUCache).parameters) == ["max_bytes", "on_evicted"]
    assert inspect.signature(LRUCache).parameters["max_bytes"].default == 0
    assert inspect.signature(HashRing).parameters["replicas"].default == 50
    pool = inspect.signature(HTTPPool).parameters
    assert (pool["base_path"].default, pool["replicas"].default, pool["timeout"].default) == (
        "/_geecache/",
        50,
        1.0,
    )
    assert list(inspect.signature(new_group).parameters) == [
        "name",
        "cache_bytes",
        "getter",
        "ttl",
    ]


def test_error_hierarchies() -> None:
    from geetrio import cache, http

    for error in (orm.NotFound, orm.UnsupportedType, orm.UnknownDialect, orm.IntegrityError):
        assert issubclass(error, orm.ORMError)
    assert issubclass(orm.IntegrityError, orm.DatabaseError)
    assert issubclass(orm.UnsupportedType, TypeError)
    for error in (cache.PeerError, cache.BadPeerPath, cache.CorruptResponse):
        assert issubclass(error, cache.CacheError)
    assert issubclass(cache.CorruptResponse, cache.PeerError)  # a corrupt body is a peer failure
    assert issubclass(cache.BadPeerPath, ValueError)
    for error in (http.ProtocolError, http.ClientError):
        assert issubclass(error, http.HTTPError)
    for error in (rpc.RemoteError, rpc.ShutdownError, rpc.RPCTimeout, rpc.FrameError):
        assert issubclass(error, rpc.RPCError)
    assert issubclass(rpc.RPCTimeout, trio.TooSlowError)


def test_one_error_root() -> None:
    """``except geetrio.GeetrioError`` catches every error geetrio raises itself."""
    import geetrio
    from geetrio import bridge, cache, etcd, http
    from geetrio.rpc._convert import ConversionError

    assert geetrio.__all__ == ["GeetrioError", "__version__"]
    for base in (http.HTTPError, cache.CacheError, orm.ORMError, rpc.RPCError, etcd.EtcdError):
        assert issubclass(base, geetrio.GeetrioError)
    for error in (bridge.BridgeError, bridge.PageClosed, bridge.BadMessage):
        assert issubclass(error, geetrio.GeetrioError)
    assert issubclass(bridge.BadMessage, bridge.BridgeError) and issubclass(
        bridge.BadMessage, ValueError
    )
    assert issubclass(ConversionError, rpc.RPCError) and issubclass(ConversionError, ValueError)
    assert issubclass(rpc.RegistryFull, rpc.RPCError)
    assert issubclass(etcd.EtcdError, geetrio.discovery.DiscoveryError)
    assert issubclass(geetrio.discovery.DiscoveryError, geetrio.GeetrioError)


def test_every_timeout_is_a_too_slow_error() -> None:
    """Users catch a timeout the same way whichever package raised it."""
    from geetrio import cache, discovery

    for timeout in (
        rpc.RPCTimeout,
        cache.PeerTimeout,
        discovery.DiscoveryTimeout,
        discovery.EtcdTimeout,
    ):
        assert issubclass(timeout, trio.TooSlowError)
    assert issubclass(cache.PeerTimeout, cache.PeerError)
    assert issubclass(discovery.EtcdTimeout, discovery.EtcdError)


def test_rpc_signatures_and_defaults() -> None:
    option = rpc.Option()
    assert (option.magic_number, option.codec_type) == (0x3BEF5C, "application/json")
    assert (option.connect_timeout, option.handle_timeout) == (10.0, 0.0)
    assert inspect.signature(rpc.Server).parameters["max_frame_bytes"].default == 16 * 1024 * 1024
    assert inspect.signature(rpc.Registry).parameters["timeout"].default == 300.0
    assert inspect.signature(rpc.heartbeat).parameters["interval"].default is None
    assert inspect.signature(rpc.RegistryDiscovery).parameters["refresh_interval"].default == 10.0
    assert {m.name for m in rpc.SelectMode} == {"RANDOM", "ROUND_ROBIN"}


def test_server_config_rejects_nonsense() -> None:
    from geetrio.http import ServerConfig

    for bad in (
        {"max_body_bytes": 0},
        {"header_timeout": 0},
        {"body_timeout": -1},
        {"grace": -1},
        {"max_connections": 0},
    ):
        with pytest.raises(ValueError):
            ServerConfig(**bad)  # type: ignore[arg-type]


def _public_async_functions() -> dict[str, object]:
    """Every async function and method (async context managers included) reachable
    from a package's ``__all__``."""
    found: dict[str, object] = {}
    for package in SURFACE:
        for name in package.__all__:
            obj = getattr(package, name)
            members = inspect.getmembers(obj) if inspect.isclass(obj) else [("", obj)]
            for attr, member in members:
                if attr.startswith("_") and attr != "__call__":
                    continue
                function = inspect.unwrap(member) if callable(member) else member
                if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
                    found[f"{package.__name__}.{name}{'.' + attr if attr else ''}"] = function
    return found


def test_every_public_async_function_says_what_cancellation_does() -> None:
    functions = _public_async_functions()
    assert len(functions) > 90  # the walk reaches them all
    silent = [name for name, f in functions.items() if "ancel" not in (inspect.getdoc(f) or "")]
    assert silent == []


PUBLIC_MODULES = {  # besides each package's __init__: the sans-IO wire and SQL modules
    "geetrio.cache": {"protocol"},
    "geetrio.rpc": {"protocol"},
    "geetrio.bridge": {"protocol"},
    "geetrio.orm": {"clause", "indexes", "relations", "schema"},
}


@pytest.mark.parametrize("package", list(SURFACE), ids=lambda m: m.__name__)
def test_implementation_modules_are_private(package: ModuleType) -> None:
    """trio's layout: a package's ``__init__`` is its public surface; its modules are
    ``_``-prefixed, except the few that are public themselves (each with ``__all__``)."""
    from pathlib import Path

    assert package.__file__ is not None
    folder = Path(package.__file__).parent
    if folder.name == "geetrio":  # a top-level module (geetrio.etcd)
        return
    public = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert public == PUBLIC_MODULES.get(package.__name__, set())
    for name in public:
        module = importlib.import_module(f"{package.__name__}.{name}")
        assert module.__all__
