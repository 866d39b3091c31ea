"""basic_auth and bearer_auth: the right credential passes (and names the user), every
wrong, missing or malformed one is a 401 with a challenge, and the handler never runs."""

from __future__ import annotations

import base64

import pytest

from geetrio.web import Context, Engine, basic_auth, bearer_auth
from tests.helpers import call, header


def basic(user: str, password: str) -> tuple[str, str]:
    return ("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())


def app(ran: list[str]) -> Engine:
    engine = Engine()
    admin = engine.group("/admin")
    admin.use(basic_auth({"foo": "bar", "manu": "4321"}, realm="admins"))

    @admin.get("/secrets")
    async def secrets(c: Context) -> None:
        ran.append(c.get("user"))
        c.string(200, "hello %s", c.get("user"))

    api = engine.group("/api")
    api.use(bearer_auth(["t0ken", "other"]))

    @api.get("/data")
    async def data(c: Context) -> None:
        ran.append("api")
        c.string(200, "data")

    @engine.get("/open")
    async def open_(c: Context) -> None:
        c.string(200, "open")

    return engine


async def test_the_right_credentials_pass_and_name_the_user() -> None:
    ran: list[str] = []
    engine = app(ran)
    ok = await call(engine, "GET", "/admin/secrets", headers=[basic("manu", "4321")])
    assert (ok.status, ok.body) == (200, b"hello manu")
    bearer = await call(engine, "GET", "/api/data", headers=[("Authorization", "Bearer other")])
    assert bearer.status == 200
    assert (await call(engine, "GET", "/open")).status == 200  # outside the groups
    assert ran == ["manu", "api"]


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [basic("manu", "1234")],
        [basic("nobody", "4321")],
        [basic("manu", "4321x")],
        [("Authorization", "Basic !!!not-base64")],
        [("Authorization", "Bearer t0ken")],  # a bearer token is no basic credential
        [("Authorization", "basic " + basic("manu", "4321")[1][6:])],
    ],
)
async def test_wrong_basic_credentials_get_401_with_a_challenge(
    headers: list[tuple[str, str]],
) -> None:
    ran: list[str] = []
    response = await call(app(ran), "GET", "/admin/secrets", headers=headers)
    assert response.status == 401
    assert header(response, "www-authenticate") == 'Basic realm="admins"'
    assert ran == []


@pytest.mark.parametrize("value", ["", "Bearer", "Bearer t0ke", "Bearer t0ken2", "t0ken"])
async def test_wrong_bearer_tokens_get_401(value: str) -> None:
    ran: list[str] = []
    headers = [("Authorization", value)] if value else []
    response = await call(app(ran), "GET", "/api/data", headers=headers)
    assert (response.status, header(response, "www-authenticate")) == (401, "Bearer")
    assert ran == []


def test_misconfiguration_is_refused_at_once() -> None:
    with pytest.raises(ValueError):
        basic_auth({})
    with pytest.raises(ValueError):
        basic_auth({"a": "b"}, realm='x"y')
    with pytest.raises(ValueError):
        bearer_auth([])
    with pytest.raises(ValueError):
        bearer_auth([""])
