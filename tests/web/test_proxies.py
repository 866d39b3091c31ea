"""``c.client_ip()`` behind trusted proxies (and not fooled by anyone else's headers),
request ids, and per-route deadlines."""

from __future__ import annotations

import ipaddress
import json

import pytest
import trio
import trio.testing

from geetrio.http import Request, decode_path
from geetrio.web import Context, Engine, request_id, timeout, trusted_proxies
from geetrio.web._proxies import client_ip_from

TRUSTED = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "xff", "client"),
    [
        ("203.0.113.9", [], ["1.2.3.4"], "203.0.113.9"),  # not a proxy of ours: ignored
        ("10.0.0.2", [], ["1.2.3.4"], "1.2.3.4"),
        ("10.0.0.2", [], ["6.6.6.6, 5.5.5.5"], "5.5.5.5"),  # a forged entry stays behind
        ("10.0.0.2", [], ["1.2.3.4, 10.0.0.7"], "1.2.3.4"),  # trusted hops skipped
        ("10.0.0.2", [], ["1.2.3.4", "10.0.0.7"], "1.2.3.4"),  # two header lines
        ("10.0.0.2", [], ["10.0.0.9, 10.0.0.7"], "10.0.0.9"),  # all ours: the farthest
        (
            "10.0.0.2",
            ['for=192.0.2.60;proto=https, for="10.0.0.5:4711"'],
            ["9.9.9.9"],
            "192.0.2.60",
        ),
        ("::1", ['for="[2001:db8::17]:4711"'], [], "2001:db8::17"),
        ("10.0.0.2", [], ["garbage, 10.0.0.7"], "10.0.0.7"),  # unreadable: stop at our hop
        ("10.0.0.2", ["for=unknown"], [], "10.0.0.2"),
        ("10.0.0.2", [], [], "10.0.0.2"),
    ],
)
def test_the_client_is_the_first_untrusted_hop(
    peer: str, forwarded: list[str], xff: list[str], client: str
) -> None:
    assert client_ip_from(peer, forwarded, xff, TRUSTED) == client


def request(peer: str, headers: list[tuple[str, str]]) -> Request:
    r = Request("GET", "/ip", decode_path("/ip"), "", [("Host", "t"), *headers], b"")
    r.remote_addr = f"{peer}:40000"
    return r


async def test_client_ip_in_a_handler() -> None:
    app = Engine()
    app.use(trusted_proxies(["10.0.0.0/8"]))

    @app.get("/ip")
    async def ip(c: Context) -> None:
        c.string(200, c.client_ip())

    behind = await app.handle(request("10.1.2.3", [("X-Forwarded-For", "198.51.100.7")]))
    assert behind.body == b"198.51.100.7"
    direct = await app.handle(request("198.51.100.8", [("X-Forwarded-For", "127.0.0.1")]))
    assert direct.body == b"198.51.100.8"  # a client cannot claim an address

    plain = Engine()  # without the middleware: the peer, headers never believed

    @plain.get("/ip")
    async def peer_ip(c: Context) -> None:
        c.string(200, c.client_ip())

    assert (await plain.handle(request("10.1.2.3", [("X-Forwarded-For", "1.1.1.1")]))).body == (
        b"10.1.2.3"
    )


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123.x:y", True), ("", False), ("x" * 129, False), ("bad id", False), ("a\tb", False)],
)
async def test_request_ids(given: str, kept: bool) -> None:
    app = Engine()
    app.use(request_id())

    @app.get("/ip")
    async def ip(c: Context) -> None:
        c.string(200, c.get("request_id"))

    headers = [("X-Request-ID", given)] if given else []
    response = await app.handle(request("10.0.0.1", headers))
    echoed = dict((k.lower(), v) for k, v in response.headers)["x-request-id"]
    assert response.body.decode() == echoed
    assert (echoed == given) is kept
    if not kept:
        assert len(echoed) == 32 and int(echoed, 16) >= 0  # a new random one


async def test_a_route_over_its_deadline_answers_503(
    autojump_clock: trio.testing.MockClock,
) -> None:
    app = Engine()
    slow = app.group("/slow")
    slow.use(timeout(1.0))
    finished: list[str] = []

    @slow.get("/sleep/:s")
    async def sleepy(c: Context) -> None:
        c.status(201)
        await trio.sleep(float(c.param("s")))
        finished.append(c.param("s"))
        c.string(200, "done")

    def target(path: str) -> Request:
        return Request("GET", path, decode_path(path), "", [("Host", "t")], b"")

    late = await app.handle(target("/slow/sleep/5"))
    assert (late.status, json.loads(late.body)) == (503, {"message": "timed out"})
    fine = await app.handle(target("/slow/sleep/0.5"))
    assert (fine.status, fine.body) == (200, b"done")
    assert finished == ["0.5"]  # the slow one was cancelled, not left running
    with pytest.raises(ValueError):
        timeout(0)
