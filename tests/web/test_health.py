"""``/healthz`` and ``/readyz`` (issue 20) over a real socket: ready while every part
answers; a part that fails or hangs turns ``/readyz`` into a 503 naming it (the others
still shown), and back to 200 once it answers again — a real sqlite engine closed
under it and reopened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from geetrio import orm
from geetrio.http import HTTPClient
from geetrio.web import Engine


async def test_readyz_names_the_part_that_does_not_answer(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    engines = [await orm.Engine.open("sqlite3", tmp_path / "gee.db")]
    registry_up = trio.Event()
    registry_up.set()
    hang = trio.Event()

    async def database() -> None:
        await engines[-1].new_session().raw("SELECT 1").query_row()

    async def registry() -> None:
        if not registry_up.is_set():
            raise ConnectionRefusedError("registry at 127.0.0.1:9999 refused")

    async def peers() -> None:
        if hang.is_set():
            await trio.sleep_forever()

    app = Engine()
    app.enable_health({"database": database, "registry": registry, "peers": peers}, timeout=0.5)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    async with HTTPClient() as client:

        async def ready() -> tuple[int, dict[str, object]]:
            response = await client.get(f"{base}/readyz")
            return response.status, json.loads(response.body)

        assert (await client.get(f"{base}/healthz")).status == 200
        checks = {"database": "ok", "peers": "ok", "registry": "ok"}
        assert await ready() == (200, {"ready": True, "checks": checks})

        await engines[0].close()  # the database goes away
        registry_up = trio.Event()  # and the registry is down
        hang.set()  # and a peer does not answer at all
        status, body = await ready()
        assert status == 503 and body["ready"] is False
        assert body["checks"] == {
            "database": "ORMError: the engine is closed",
            "peers": "timed out after 0.5 s",
            "registry": "ConnectionRefusedError: registry at 127.0.0.1:9999 refused",
        }
        assert (await client.get(f"{base}/healthz")).status == 200  # still serving

        engines.append(await orm.Engine.open("sqlite3", tmp_path / "gee.db"))
        registry_up.set()
        hang = trio.Event()
        assert await ready() == (200, {"ready": True, "checks": checks})
    await engines[-1].close()


def test_a_readiness_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Engine().enable_health({}, timeout=0)


async def test_an_advisory_check_is_reported_but_keeps_the_node_ready(
    nursery: trio.Nursery,
) -> None:
    async def fine() -> None:
        pass

    async def peer_down() -> None:
        raise ConnectionRefusedError("peer http://127.0.0.1:8002 refused")

    app = Engine()
    checks = {"database": fine, "peer http://127.0.0.1:8002": peer_down}
    app.enable_health(checks, advisory=["peer http://127.0.0.1:8002"])
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    async with HTTPClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/readyz")
    assert response.status == 200
    assert json.loads(response.body) == {
        "ready": True,
        "checks": {
            "database": "ok",
            "peer http://127.0.0.1:8002": "ConnectionRefusedError: peer http://127.0.0.1:8002 "
            "refused",
        },
    }
    with pytest.raises(ValueError, match="advisory names no check: nothing"):
        Engine().enable_health({}, advisory=["nothing"])
