"""The cluster's client: runs inside a host's namespace and does what the test asks.

One JSON command per line on stdin, one JSON answer per line on stdout:

- ``{"op": "get", "url": U, "keys": [...], "concurrency": C}`` -> ``{"results":
  [[key, status, body, seconds], ...]}``: ``GET U/api?key=K`` for each key, C at a time
  (status 0 and the error text when the request itself failed); with ``"notify_after":
  N`` also a ``{"progress": N}`` line once N are done, before the answer;
- ``{"op": "stats", "urls": [...]}`` -> ``{"stats": {url: group stats}}`` from ``/api/stats``;
- ``{"op": "rpc", "registry": R, "method": M, "arg": A, "calls": N, "call_timeout": T}`` ->
  ``{"results": [[reply or null, error or null, seconds], ...]}``: N sequential calls
  through one ``XClient`` over ``RegistryDiscovery(R)`` (kept across commands);
- ``{"op": "broadcast", ...same...}`` -> ``{"reply": ..., "error": ...}``;
- ``{"op": "servers", "registry": R}`` -> ``{"servers": [...]}``, what the registry lists now.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any
from urllib.parse import quote

import trio

from geetrio import rpc
from geetrio.http import ClientError, HTTPClient

TIMEOUT = 10.0  # no single request of the agent waits longer


class Agent:
    def __init__(self, nursery: trio.Nursery, http: HTTPClient) -> None:
        self.nursery = nursery
        self.http = http
        self.xclients: dict[str, rpc.XClient] = {}

    async def get(
        self, url: str, keys: list[str], concurrency: int = 1, notify_after: int = 0
    ) -> dict[str, Any]:
        results: list[Any] = [None] * len(keys)
        slots = trio.Semaphore(concurrency)
        done = 0

        async def one(i: int, key: str) -> None:
            async with slots:
                started = time.perf_counter()
                try:
                    with trio.fail_after(TIMEOUT):
                        response = await self.http.get(f"{url}/api?key={quote(key)}")
                    status, body = response.status, response.body.decode(errors="replace")
                except (ClientError, trio.TooSlowError) as exc:
                    status, body = 0, f"{type(exc).__name__}: {exc}"
                results[i] = [key, status, body, time.perf_counter() - started]
                nonlocal done
                done += 1
                if done == notify_after:  # the test acts mid-load on this line
                    answer({"progress": done})

        async with trio.open_nursery() as nursery:
            for i, key in enumerate(keys):
                nursery.start_soon(one, i, key)
        return {"results": results}

    async def stats(self, urls: list[str]) -> dict[str, Any]:
        stats = {}
        for url in urls:
            with trio.fail_after(TIMEOUT):
                response = await self.http.get(f"{url}/api/stats")
            stats[url] = json.loads(response.body)["stats"]
        return {"stats": stats}

    async def _xclient(self, registry: str) -> rpc.XClient:
        if registry not in self.xclients:
            discovery = rpc.RegistryDiscovery(registry, refresh_interval=0.5)
            option = rpc.Option(connect_timeout=1.0)

            async def hold(task_status: trio.TaskStatus[rpc.XClient]) -> None:
                async with rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN, option=option) as xc:
                    task_status.started(xc)
                    await trio.sleep_forever()

            self.xclients[registry] = await self.nursery.start(hold)
        return self.xclients[registry]

    async def rpc(
        self, registry: str, method: str, arg: Any, calls: int, call_timeout: float
    ) -> dict[str, Any]:
        xclient = await self._xclient(registry)
        results = []
        for _ in range(calls):
            started = time.perf_counter()
            try:
                reply, error = await xclient.call(method, arg, timeout=call_timeout), None
            except rpc.RPCError as exc:
                reply, error = None, f"{type(exc).__name__}: {exc}"
            results.append([reply, error, time.perf_counter() - started])
        return {"results": results}

    async def broadcast(
        self, registry: str, method: str, arg: Any, call_timeout: float
    ) -> dict[str, Any]:
        xclient = await self._xclient(registry)
        try:
            return {
                "reply": await xclient.broadcast(method, arg, timeout=call_timeout),
                "error": None,
            }
        except rpc.RPCError as exc:
            return {"reply": None, "error": f"{type(exc).__name__}: {exc}"}

    async def servers(self, registry: str) -> dict[str, Any]:
        with trio.fail_after(TIMEOUT):
            response = await self.http.get(registry)
        listed = response.headers.get("x-geerpc-servers", "")
        return {"servers": [s for s in listed.split(",") if s]}


def answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main() -> None:
    stdin = trio.lowlevel.FdStream(os.dup(0))
    async with HTTPClient() as http, trio.open_nursery() as nursery:
        agent = Agent(nursery, http)
        answer({"ready": True})
        buffered = b""
        while True:
            chunk = await stdin.receive_some(1 << 16)
            if not chunk:
                break
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                command = json.loads(line)
                op = command.pop("op")
                try:
                    result = await getattr(agent, op)(**command)
                except Exception as exc:  # reported to the test, which fails on it
                    result = {"exception": f"{type(exc).__name__}: {exc}"}
                answer(result)
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
