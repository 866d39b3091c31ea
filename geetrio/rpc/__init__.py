"""GeeRPC: a net/rpc-like RPC framework on trio — services by reflection, a
concurrent client with per-call timeouts, HTTP CONNECT transport, load balancing and
a heartbeat registry.

>>> from geetrio import rpc
>>> # server = rpc.Server(); server.register(Foo())
>>> # port = await nursery.start(server.serve, "127.0.0.1", 0)
>>> # async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
>>> #     await client.call("Foo.Sum", Args(1, 2), timeout=1.0)
"""

from ._client import Client, open_client
from ._codec import Codec, JSONCodec, StreamCodec, get_codec, register_codec
from ._dial import dial, dial_http, xdial
from ._errors import FrameError, RemoteError, RPCError, RPCTimeout, ShutdownError
from ._etcd import DEFAULT_ETCD_PREFIX, EtcdDiscovery, etcd_register
from ._gob import GOB, NET_RPC, GobCodec
from ._intercept import (
    CallInfo,
    ClientCall,
    ClientInterceptor,
    Interceptor,
    Refused,
    token_interceptor,
)
from ._jsonrpc import JSONRPC, JSONRPCCodec
from ._metrics import client_metrics_interceptor, metrics_interceptor
from ._registry import (
    DEFAULT_REGISTRY_PATH,
    Registry,
    RegistryDiscovery,
    RegistryFull,
    heartbeat,
)
from ._server import Server
from ._service import Method, Service
from ._xclient import (
    Balancer,
    Discovery,
    MultiServersDiscovery,
    RandomBalancer,
    RoundRobinBalancer,
    SelectMode,
    XClient,
)
from .protocol import MAGIC_NUMBER, FrameDecoder, Header, Option, OptionReader

__all__ = [
    "DEFAULT_ETCD_PREFIX",
    "DEFAULT_REGISTRY_PATH",
    "GOB",
    "JSONRPC",
    "MAGIC_NUMBER",
    "NET_RPC",
    "Balancer",
    "CallInfo",
    "Client",
    "ClientCall",
    "ClientInterceptor",
    "Codec",
    "Discovery",
    "EtcdDiscovery",
    "FrameDecoder",
    "FrameError",
    "GobCodec",
    "Header",
    "Interceptor",
    "JSONCodec",
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
    "client_metrics_interceptor",
    "dial",
    "dial_http",
    "etcd_register",
    "get_codec",
    "heartbeat",
    "metrics_interceptor",
    "open_client",
    "register_codec",
    "token_interceptor",
    "xdial",
]

register_codec(GobCodec())  # application/gob, as the Option's CodecType names it
register_codec(GobCodec(NET_RPC))  # Go's net/rpc: gob without the Option line
register_codec(JSONRPCCodec())  # Go's net/rpc/jsonrpc: JSON-RPC 1.0 lines
