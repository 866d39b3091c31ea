"""Static files and templates: through ``web.TestClient`` (the real server loop and
parser, no socket), over a real socket where the bytes on the wire matter (a HEAD
answer's framing among pipelined requests)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from email.utils import formatdate
from pathlib import Path

import pytest
import trio

from geetrio.web import Context, Engine, TestClient, default
from geetrio.web._static import SMALL_FILE, _resolve
from tests.helpers import RawClient, call, get, header

BIG = bytes(range(256)) * (SMALL_FILE // 256 + 100)  # streamed, not read in one go


@pytest.fixture
def site(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "geektutu.css").write_text("p { color: red; }\n")
    (static / "big.bin").write_bytes(BIG)
    (static / "page.html").write_text("<p>hi</p>")
    (tmp_path / "secret.txt").write_text("top secret\n")
    os.symlink(static / "css" / "geektutu.css", static / "inside-link.css")
    os.symlink(tmp_path / "secret.txt", static / "outside-link.txt")
    return tmp_path


def static_app(site: Path) -> Engine:
    app = Engine()
    app.static("/assets", site / "static")
    return app


@pytest.fixture
async def port(site: Path, nursery: trio.Nursery) -> int:
    return await nursery.start(static_app(site).serve, "127.0.0.1", 0)


@pytest.fixture
async def client(site: Path) -> AsyncIterator[TestClient]:
    async with TestClient(static_app(site)) as client:
        yield client


async def test_serves_files_with_content_type_and_last_modified(
    client: TestClient, site: Path
) -> None:
    response = await client.get("/assets/css/geektutu.css")
    assert response.status == 200
    assert response.body == b"p { color: red; }\n"
    assert response.headers["content-type"] == "text/css"
    mtime = (site / "static" / "css" / "geektutu.css").stat().st_mtime
    assert response.headers["last-modified"] == formatdate(mtime, usegmt=True)
    html = await client.get("/assets/page.html")
    assert html.headers["content-type"] == "text/html"
    assert (await client.get("/assets/big.bin")).body == BIG  # streamed from the file


async def test_large_files_stream_and_head_sends_only_the_length(port: int) -> None:
    client = await RawClient.connect(port)
    response = await client.request(get("/assets/big.bin"))
    assert response.body == BIG
    await client.send(b"HEAD /assets/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
    head = await client.read_response(head=True)
    assert head.headers["content-length"] == str(len(BIG))
    await client.send(
        b"HEAD /assets/css/geektutu.css HTTP/1.1\r\nHost: t\r\n\r\n"
        + get("/assets/css/geektutu.css")
    )
    small_head = await client.read_response(head=True)
    assert small_head.headers["content-length"] == "18"
    assert (await client.read_response()).body == b"p { color: red; }\n"  # framing intact
    await client.aclose()


async def test_if_modified_since(client: TestClient) -> None:
    css = "/assets/css/geektutu.css"
    stamp = (await client.get(css)).headers["last-modified"]
    same = await client.get(css, headers={"If-Modified-Since": stamp})
    assert (same.status, same.body) == (304, b"")
    assert "content-length" not in same.headers
    older = await client.get(css, headers={"If-Modified-Since": formatdate(0, usegmt=True)})
    assert older.status == 200
    garbage = await client.get(css, headers={"If-Modified-Since": "yesterday"})
    assert garbage.status == 200


@pytest.mark.parametrize(
    "target",
    [
        "/assets/../secret.txt",
        "/assets/css/../../secret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/%2E%2E%2Fsecret.txt",
        "/assets/css/%2e%2e/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/assets/%2Fetc%2Fpasswd",
        "/assets//etc/passwd",
        "/assets/outside-link.txt",
        "/assets/css",
        "/assets/",
        "/assets/missing.txt",
        "/assets/a%00b",
    ],
)
async def test_nothing_outside_the_folder_and_no_listings(client: TestClient, target: str) -> None:
    response = await client.get(target)
    assert response.status == (400 if "%00" in target else 404)  # a NUL is refused first
    assert b"top secret" not in response.body and b"root:" not in response.body


async def test_symlinks_that_stay_inside_are_served(client: TestClient) -> None:
    response = await client.get("/assets/inside-link.css")
    assert (response.status, response.body) == (200, b"p { color: red; }\n")


def test_resolve_refuses_absolute_paths_directly(site: Path) -> None:
    root = os.path.realpath(site / "static")
    assert _resolve(root, "/etc/passwd") is None
    assert _resolve(root, str(site / "secret.txt")) is None
    assert _resolve(root, "css/geektutu.css") is not None


# ------------------------------------------------------------------ templates


@pytest.fixture
def templated_app(tmp_path: Path) -> Engine:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "arr.tmpl").write_text(
        "<p>{{ title }}</p>{% for s in students %}<li>{{ s.name }}: {{ s.age }}</li>{% endfor %}"
    )
    (templates / "custom.tmpl").write_text("<p>{{ shout(name) }} on {{ format_date(day) }}</p>")
    app = default()
    app.set_func_map(
        {"shout": lambda s: s.upper() + "!", "format_date": lambda d: f"{d[0]}-{d[1]:02d}"}
    )
    app.load_html_glob(str(templates / "*"))

    @app.get("/students")
    async def students(c: Context) -> None:
        c.html(
            200, "arr.tmpl", {"title": "gee", "students": [{"name": "Tom & <Jerry>", "age": 20}]}
        )

    @app.get("/custom")
    async def custom(c: Context) -> None:
        c.html(200, "custom.tmpl", {"name": "<b>tom</b>", "day": (2019, 8)})

    @app.get("/missing")
    async def missing(c: Context) -> None:
        c.html(200, "nope.tmpl", {})

    return app


async def test_templates_render_with_autoescape(templated_app: Engine) -> None:
    response = await call(templated_app, "GET", "/students")
    assert response.status == 200
    assert header(response, "content-type") == "text/html; charset=utf-8"
    assert response.body == b"<p>gee</p><li>Tom &amp; &lt;Jerry&gt;: 20</li>"


async def test_func_map_is_callable_in_templates(templated_app: Engine) -> None:
    response = await call(templated_app, "GET", "/custom")
    assert response.body == b"<p>&lt;B&gt;TOM&lt;/B&gt;! on 2019-08</p>"


async def test_missing_template_is_a_500_not_a_crash(templated_app: Engine) -> None:
    assert (await call(templated_app, "GET", "/missing")).status == 500


def test_load_html_glob_with_no_match_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no template"):
        Engine().load_html_glob(str(tmp_path / "*.tmpl"))
