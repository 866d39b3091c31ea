"""Load balancing (day 6): discovery of servers, selection modes, ``XClient``."""

from __future__ import annotations

import enum
import logging
import random
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import trio

from .._core.nursery import OwnsTasks
from ._client import Client
from ._dial import xdial
from ._errors import RPCError, ShutdownError
from ._intercept import ClientInterceptor
from .protocol import Option

__all__ = [
    "Balancer",
    "Discovery",
    "MultiServersDiscovery",
    "RandomBalancer",
    "RoundRobinBalancer",
    "SelectMode",
    "Selection",
    "XClient",
]

log = logging.getLogger("geetrio.rpc")


class SelectMode(enum.Enum):
    RANDOM = "random"
    ROUND_ROBIN = "round_robin"


class Balancer(Protocol):
    """Picks the server for the next call among those discovered (never empty). Give
    one to ``XClient`` instead of a ``SelectMode`` to balance your own way."""

    def pick(self, servers: Sequence[str]) -> str: ...


class RandomBalancer:
    """``SelectMode.RANDOM``: any server, uniformly."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def pick(self, servers: Sequence[str]) -> str:
        return servers[self._rng.randrange(len(servers))]


class RoundRobinBalancer:
    """``SelectMode.ROUND_ROBIN``: each server in turn, starting anywhere."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._index = (rng or random.Random()).randrange(1 << 30)

    def pick(self, servers: Sequence[str]) -> str:
        server = servers[self._index % len(servers)]
        self._index = (self._index + 1) % (1 << 30)
        return server


Selection = SelectMode | Balancer  # what XClient and Discovery.get take


class Discovery(Protocol):
    async def refresh(self) -> None:
        """Bring the list up to date. Cancelled: the last list stays."""
        ...

    async def get(self, mode: Selection) -> str:
        """One server, picked by ``mode``. Cancelled: nothing is picked."""
        ...

    async def get_all(self) -> list[str]:
        """Every server. Cancelled: nothing changes."""
        ...


class MultiServersDiscovery:
    """A fixed list of ``protocol@addr`` servers, changed with ``update``."""

    def __init__(self, servers: list[str], *, rng: random.Random | None = None) -> None:
        self._servers = list(servers)
        rng = rng or random.Random()
        # the balancers behind the two SelectModes, one each per discovery
        self._modes: dict[SelectMode, Balancer] = {
            SelectMode.ROUND_ROBIN: RoundRobinBalancer(rng),
            SelectMode.RANDOM: RandomBalancer(rng),
        }

    async def refresh(self) -> None:
        """Nothing to fetch (a checkpoint: cancelled, nothing changes)."""
        await trio.lowlevel.checkpoint()

    def update(self, servers: list[str]) -> None:
        self._servers = list(servers)

    async def get(self, mode: Selection) -> str:
        """One server, picked by ``mode``. Cancelled: nothing is picked."""
        await trio.lowlevel.checkpoint()
        return self.pick(self._servers, mode)

    def pick(self, servers: list[str], mode: Selection) -> str:
        if not servers:
            raise RPCError("rpc discovery: no available servers")
        balancer = self._modes[mode] if isinstance(mode, SelectMode) else mode
        return balancer.pick(servers)

    async def get_all(self) -> list[str]:
        """Every server. Cancelled: nothing changes."""
        await trio.lowlevel.checkpoint()
        return list(self._servers)


class XClient(OwnsTasks):
    """Calls through a ``Discovery``: ``async with rpc.XClient(d, mode) as xc:``.

    One client per server, dialled on first use (outside any lock, so one slow dial
    holds up no other server) and re-dialled when found broken; clients of servers
    that left discovery are closed. ``call`` tries the next server only when dialling
    fails or the connection was found broken before the request was sent — a
    ``RemoteError`` or a timeout is not retried (the call may have run).
    """

    def __init__(
        self,
        discovery: Discovery,
        mode: Selection = SelectMode.RANDOM,
        *,
        option: Option | None = None,
        ssl_context: ssl.SSLContext | None = None,
        interceptors: Sequence[ClientInterceptor] = (),
    ) -> None:
        self.discovery = discovery
        self.interceptors = list(interceptors)  # given to each client it dials (Client.use)
        self.mode = mode
        self.option = option or Option()
        self.ssl_context = ssl_context  # for tls@ and https@ servers
        self._clients: dict[str, tuple[Client, trio.CancelScope]] = {}
        self._dialling: dict[str, trio.Event] = {}

    def _closing(self) -> None:
        for _, scope in self._clients.values():
            scope.cancel()
        self._clients.clear()

    async def _client(self, rpc_addr: str) -> Client:
        """A live client of ``rpc_addr``, dialled if needed. ``RPCError`` if it fails."""
        while True:
            cached = self._clients.get(rpc_addr)
            if cached is not None:
                client, scope = cached
                if client.is_available:
                    return client
                scope.cancel()  # broken: close it and dial again
                del self._clients[rpc_addr]
            dialling = self._dialling.get(rpc_addr)
            if dialling is None:
                break
            await dialling.wait()  # another task is dialling it: share its client
            if rpc_addr not in self._clients:
                raise RPCError(f"rpc xclient: cannot connect to {rpc_addr}")
        done = self._dialling[rpc_addr] = trio.Event()
        try:
            assert self._nursery is not None, "use `async with XClient(...)`"
            dialled: Client = await self._nursery.start(self._hold, rpc_addr)
        finally:
            del self._dialling[rpc_addr]
            done.set()
        return dialled

    async def _hold(
        self, rpc_addr: str, task_status: trio.TaskStatus[Client] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Dial ``rpc_addr`` and keep its client open until its scope is cancelled (a
        failed dial raises from ``nursery.start``)."""
        with trio.CancelScope() as scope:
            async with xdial(rpc_addr, option=self.option, ssl_context=self.ssl_context) as client:
                client.use(*self.interceptors)
                self._clients[rpc_addr] = (client, scope)
                task_status.started(client)
                await trio.sleep_forever()
        if self._clients.get(rpc_addr, (None, None))[1] is scope:
            del self._clients[rpc_addr]

    async def _forget_gone(self, alive: list[str]) -> None:
        for rpc_addr in [a for a in self._clients if a not in alive]:
            client_scope = self._clients.pop(rpc_addr)[1]
            client_scope.cancel()
        await trio.lowlevel.checkpoint()

    async def call(
        self,
        service_method: str,
        args: Any = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the public contract
        reply_type: Any = Any,
        metadata: Mapping[str, str] | None = None,
    ) -> Any:
        """Call on a server chosen by the mode (``metadata`` as for ``Client.call``);
        see the class for failover. Cancelled:
        as ``Client.call`` — the call may have run; it is not tried elsewhere."""
        servers = await self.discovery.get_all()
        await self._forget_gone(servers)
        tried: list[str] = []
        last_error: RPCError | None = None
        for _ in range(max(len(servers), 1)):
            rpc_addr = await self.discovery.get(self.mode)
            if rpc_addr in tried and len(tried) < len(servers):
                rpc_addr = next(s for s in servers if s not in tried)
            tried.append(rpc_addr)
            try:
                client = await self._client(rpc_addr)
            except RPCError as exc:  # could not dial: the request was never sent
                last_error = exc
                continue
            try:
                return await client.call(
                    service_method, args, timeout=timeout, reply_type=reply_type, metadata=metadata
                )
            except ShutdownError as exc:
                if exc.sent:
                    raise  # the request may have reached the server: not retried
                last_error = exc
        assert last_error is not None
        raise last_error

    async def broadcast(
        self,
        service_method: str,
        args: Any = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the public contract
        reply_type: Any = Any,
    ) -> Any:
        """Call every server at once (one nursery); one successful reply. On the first
        error the others are cancelled and that error is raised."""
        servers = await self.discovery.get_all()
        await self._forget_gone(servers)
        if not servers:
            raise RPCError("rpc discovery: no available servers")
        replies: list[Any] = []
        errors: list[BaseException] = []

        async def one(rpc_addr: str, cancel: Callable[[], None]) -> None:
            try:
                client = await self._client(rpc_addr)
                replies.append(
                    await client.call(service_method, args, timeout=timeout, reply_type=reply_type)
                )
            except RPCError as exc:
                if not errors:
                    errors.append(exc)
                    cancel()

        async with trio.open_nursery() as nursery:
            for rpc_addr in servers:
                nursery.start_soon(one, rpc_addr, nursery.cancel_scope.cancel)
        if errors:
            raise errors[0]
        return replies[0]
