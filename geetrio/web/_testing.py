"""``TestClient``: drive a Gee app in-process, the way starlette users use theirs — but
trio-native and through the real server: every request is written as HTTP/1.1 bytes
into a memory stream, parsed by the server's parser, run through the whole chain,
answered by the server loop and parsed back. No sockets, no ports, no threads.

>>> async with web.TestClient(app) as client:          # doctest: +SKIP
...     response = await client.get("/hello?name=geetrio")
...     assert response.status == 200 and response.text == "hello geetrio"

Cookies the app sets are kept and sent back, like a browser's jar (by name; ``Max-Age=0``
removes one).
"""

from __future__ import annotations

import json as jsonlib
import math
from collections.abc import Mapping
from functools import partial
from typing import Any

import trio
import trio.testing

from ..http import ClientResponse, ResponseParser, ServerConfig, serve_listeners
from ..http._client import request_head
from ._cookies import parse_cookies
from ._engine import Engine

__all__ = ["TestClient"]


class _Listener(trio.abc.Listener[trio.abc.Stream]):
    def __init__(self) -> None:
        self.send, self._receive = trio.open_memory_channel[trio.abc.Stream](math.inf)

    async def accept(self) -> trio.abc.Stream:
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            raise trio.ClosedResourceError from None

    async def aclose(self) -> None:
        self._receive.close()
        await trio.lowlevel.checkpoint()


class TestClient:
    """``async with TestClient(app) as client:`` then ``await client.get(path)`` (and
    ``post``, ``put``, ``patch``, ``delete``, ``head``, ``options``, ``request``);
    each answers a ``ClientResponse`` (``status``, ``headers``, ``body``, ``text``,
    ``json()``). ``config``: the server's limits, as ``app.serve`` takes them."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, app: Engine, *, config: ServerConfig | None = None) -> None:
        self.app = app
        self.config = config
        self.cookies: dict[str, str] = {}
        self._listener = _Listener()
        self._nursery_manager: Any = None
        self._nursery: trio.Nursery | None = None

    async def __aenter__(self) -> TestClient:
        self._nursery_manager = trio.open_nursery()
        self._nursery = await self._nursery_manager.__aenter__()
        app = self.app
        serving = partial(
            serve_listeners,
            app.handle,
            [self._listener],
            config=self.config,
            stream_body=app.streams_body,
        )
        self._nursery.start_soon(serving)
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()
        result: bool | None = await self._nursery_manager.__aexit__(*exc_info)
        return result

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes = b"",
        json: Any = None,
    ) -> TestResponse:
        """One request on a connection of its own; ``json`` encodes a body and sets
        its content type. Cancelled: the connection closes, and the server cancels
        the handler as it would for a client that went away."""
        if self._nursery is None:
            raise RuntimeError("use the client inside `async with TestClient(app)`")
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
        if json is not None:
            body = jsonlib.dumps(json).encode()
            pairs.append(("Content-Type", "application/json"))
        if self.cookies:
            pairs.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        ours, theirs = trio.testing.memory_stream_pair()
        await self._listener.send.send(theirs)
        parser = ResponseParser(head=method.upper() == "HEAD")
        async with ours:
            await ours.send_all(request_head(method, "testserver", 80, path, pairs, len(body)))
            if body:
                await ours.send_all(body)
            while parser.response is None:
                data = await ours.receive_some(65536)
                if not data:
                    parser.eof()
                    break
                parser.feed(data)
        assert parser.response is not None
        response = TestResponse(parser.response)
        self._keep_cookies(response)
        return response

    def _keep_cookies(self, response: TestResponse) -> None:
        for header in response.headers.getlist("set-cookie"):
            pair, _, attributes = header.partition(";")
            for name, value in parse_cookies(pair).items():
                if "max-age=0" in attributes.lower().replace(" ", ""):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value

    async def get(self, path: str, **kwargs: Any) -> TestResponse:
        """``request("GET", path, ...)``; cancelled, as ``request``."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> TestResponse:
        """``request("POST", path, ...)``; cancelled, as ``request``."""
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> TestResponse:
        """``request("PUT", path, ...)``; cancelled, as ``request``."""
        return await self.request("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> TestResponse:
        """``request("PATCH", path, ...)``; cancelled, as ``request``."""
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> TestResponse:
        """``request("DELETE", path, ...)``; cancelled, as ``request``."""
        return await self.request("DELETE", path, **kwargs)

    async def head(self, path: str, **kwargs: Any) -> TestResponse:
        """``request("HEAD", path, ...)``; cancelled, as ``request``."""
        return await self.request("HEAD", path, **kwargs)

    async def options(self, path: str, **kwargs: Any) -> TestResponse:
        """``request("OPTIONS", path, ...)``; cancelled, as ``request``."""
        return await self.request("OPTIONS", path, **kwargs)


class TestResponse:
    """A response as the test client parsed it off the wire."""

    __test__ = False

    def __init__(self, response: ClientResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.body)
