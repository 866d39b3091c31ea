"""Cookies and sessions from a handler's side: read them, set them with every attribute,
delete them; sign them; a session that survives round trips and, forged, altered or
expired, becomes a fresh one — never an error page. Hostile cookie headers included."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from geetrio.web import Context, Engine, Signer, recovery, sessions
from geetrio.web._cookies import parse_cookies, set_cookie_header
from tests.helpers import call

KEY = "session-key-0123456789abcdef"


def set_cookies(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [v for k, v in response.headers if k.lower() == "set-cookie"]


def cookie_header(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """What a browser sends back after ``response`` (the name=value of each cookie)."""
    return ("Cookie", "; ".join(c.split(";", 1)[0] for c in set_cookies(response)))


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ('a="quoted"', {"a": "quoted"}),
        ("a=1; a=2", {"a": "1"}),  # the first (most specific path) wins
        ("a=; b", {"a": ""}),  # a bare word is skipped
        ("bad name=1; ok=2; =3; c=x y", {"ok": "2"}),  # no spaces, no empty names
        ('e="unterminated; f=\x00; g=1', {"g": "1"}),
        (";;;   ;", {}),
    ],
)
def test_a_cookie_header_is_read_leniently(header: str, expected: dict[str, str]) -> None:
    assert parse_cookies(header) == expected


def test_a_flood_of_cookies_is_cut() -> None:
    assert len(parse_cookies("; ".join(f"c{i}=v" for i in range(10_000)))) == 100


async def test_a_handler_reads_cookies_from_every_cookie_header() -> None:
    app = Engine()

    @app.get("/")
    async def index(c: Context) -> None:
        c.json(200, {"lang": c.cookie("lang"), "theme": c.cookie("theme", "light"), **c.cookies})

    response = await call(app, "GET", "/", headers=[("Cookie", "lang=en"), ("Cookie", "x=1")])
    assert json.loads(response.body) == {"lang": "en", "theme": "light", "x": "1"}


# ------------------------------------------------------------------ writing


def test_set_cookie_with_every_attribute() -> None:
    when = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    header = set_cookie_header(
        "id",
        "a3fWa",
        max_age=3600,
        expires=when,
        path="/docs",
        domain="example.com",
        secure=True,
        http_only=True,
        same_site="strict",
        partitioned=True,
    )
    assert header == (
        "id=a3fWa; Max-Age=3600; Expires=Sat, 02 Jan 2027 03:04:05 GMT; Path=/docs; "
        "Domain=example.com; Secure; HttpOnly; SameSite=Strict; Partitioned"
    )
    assert set_cookie_header("id", "v") == "id=v; Path=/; HttpOnly; SameSite=Lax"  # defaults
    plain = set_cookie_header("id", "v", path=None, http_only=False, same_site=None)
    assert plain == "id=v"


@pytest.mark.parametrize(
    ("name", "value", "attributes", "says"),
    [
        ("bad name", "v", {}, "invalid cookie name"),
        ("n", "two words", {}, "may not hold spaces"),
        ("n", "a;b=c", {}, "may not hold"),  # no smuggling of an attribute
        ("n", "x\r\nSet-Cookie: evil=1", {}, "may not hold"),
        ("n", "v", {"path": "/a;Domain=evil"}, "invalid Path"),
        ("n", "v", {"same_site": "sometimes"}, "SameSite must be"),
        ("n", "v", {"same_site": "None"}, "needs secure=True"),
        ("n", "v", {"partitioned": True}, "needs secure=True"),
    ],
)
def test_a_cookie_a_browser_would_misread_is_refused(
    name: str, value: str, attributes: dict[str, object], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        set_cookie_header(name, value, **attributes)  # type: ignore[arg-type]


async def test_handlers_set_and_delete_cookies_and_a_bad_one_is_a_500() -> None:
    app = Engine()
    app.use(recovery())

    @app.get("/set")
    async def set_(c: Context) -> None:
        c.set_cookie("a", "1", max_age=60)
        c.set_cookie("b", "2", secure=True, same_site="None")
        c.string(200, "ok")

    @app.get("/delete")
    async def delete(c: Context) -> None:
        c.delete_cookie("a")
        c.string(200, "ok")

    @app.get("/bad")
    async def bad(c: Context) -> None:
        c.set_cookie("a", "semi;colon")

    assert set_cookies(await call(app, "GET", "/set")) == [
        "a=1; Max-Age=60; Path=/; HttpOnly; SameSite=Lax",
        "b=2; Path=/; Secure; HttpOnly; SameSite=None",
    ]
    (deleted,) = set_cookies(await call(app, "GET", "/delete"))
    assert deleted.startswith("a=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/")
    assert (await call(app, "GET", "/bad")).status == 500


# ------------------------------------------------------------------ signing


def test_signed_values_verify_and_anything_else_does_not() -> None:
    signer = Signer([KEY])
    signed = signer.sign("user", "alice", now=1_000_000)
    assert signer.unsign("user", signed, now=1_000_010) == "alice"
    assert signer.unsign("admin", signed, now=1_000_010) is None  # signed for another cookie
    assert signer.unsign("user", signed.replace("alice", "mallory")) is None
    assert signer.unsign("user", signed[:-1] + ("A" if signed[-1] != "A" else "B")) is None
    assert signer.unsign("user", signed, max_age=5, now=1_000_010) is None  # too old
    assert Signer(["another-key-0123456789"]).unsign("user", signed) is None
    for junk in ("", ".", "..", "a.b", "a.zz.c", "x" * 5000):
        assert signer.unsign("user", junk) is None
    rotated = Signer(["a-new-key-0123456789abcd", KEY])  # the old key still verifies
    assert rotated.unsign("user", signed, now=1_000_010) == "alice"
    with pytest.raises(ValueError, match="16 bytes"):
        Signer(["short"])


# ------------------------------------------------------------------ sessions


def session_app() -> Engine:
    app = Engine()
    app.use(recovery(), sessions([KEY], max_age=3600))

    @app.get("/visit")
    async def visit(c: Context) -> None:
        c.session["visits"] = c.session.get("visits", 0) + 1
        c.json(200, {"visits": c.session["visits"], "fresh": c.session.fresh})

    @app.get("/look")
    async def look(c: Context) -> None:
        c.json(200, dict(c.session))

    @app.get("/logout")
    async def logout(c: Context) -> None:
        c.session.clear()
        c.string(200, "bye")

    @app.get("/huge")
    async def huge(c: Context) -> None:
        c.session["blob"] = "x" * 10_000

    return app


async def test_a_session_lives_in_a_signed_cookie_across_requests() -> None:
    app = session_app()
    first = await call(app, "GET", "/visit")
    assert json.loads(first.body) == {"visits": 1, "fresh": True}
    (cookie,) = set_cookies(first)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=3600" in cookie
    second = await call(app, "GET", "/visit", headers=[cookie_header(first)])
    assert json.loads(second.body) == {"visits": 2, "fresh": False}
    looked = await call(app, "GET", "/look", headers=[cookie_header(second)])
    assert json.loads(looked.body) == {"visits": 2} and set_cookies(looked) == []  # unchanged
    out = await call(app, "GET", "/logout", headers=[cookie_header(second)])
    assert set_cookies(out)[0].startswith("session=; Max-Age=0")


async def test_a_forged_or_altered_session_is_a_fresh_one_not_an_error() -> None:
    app = session_app()
    good = cookie_header(await call(app, "GET", "/visit"))[1]
    value = good.split("=", 1)[1]
    payload, stamp, mac = value.rsplit(".", 2)
    forged_payload = base64.urlsafe_b64encode(b'{"visits":1000,"admin":true}').decode()
    for cookie in (
        f"session={forged_payload.rstrip('=')}.{stamp}.{mac}",  # new content, old MAC
        f"session={payload}.{stamp}.{mac[:-2]}xx",  # a broken MAC
        "session=" + Signer(["an-attacker-key-0123456789"]).sign("session", forged_payload),
        "session=garbage",
        "session=" + "A" * 4000,
    ):
        response = await call(app, "GET", "/visit", headers=[("Cookie", cookie)])
        assert response.status == 200
        assert json.loads(response.body) == {"visits": 1, "fresh": True}


async def test_an_expired_session_is_a_fresh_one() -> None:
    app = Engine()
    app.use(sessions([KEY], max_age=60))

    @app.get("/")
    async def index(c: Context) -> None:
        c.json(200, {"fresh": c.session.fresh})

    old = Signer([KEY]).sign("session", "eyJhIjoxfQ", now=0)  # {"a":1}, signed in 1970
    response = await call(app, "GET", "/", headers=[("Cookie", f"session={old}")])
    assert json.loads(response.body) == {"fresh": True}


async def test_a_session_too_big_for_a_cookie_is_an_error_and_no_session_without_middleware() -> (
    None
):
    assert (await call(session_app(), "GET", "/huge")).status == 500
    app = Engine()
    app.use(recovery())

    @app.get("/")
    async def index(c: Context) -> None:
        c.session["x"] = 1

    assert (await call(app, "GET", "/")).status == 500  # RuntimeError: install sessions()
