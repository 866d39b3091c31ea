"""Multipart forms and uploads (``await c.form()``, ``await c.form_file(name)``): parsed
as the body streams in, small files in memory and large ones spooled to unnamed
temporary files, saved without blocking; limits answer 413/400; malformed, truncated and
abandoned bodies leave no temporary file open."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio

from geetrio.web import Context, Engine, FormLimits, TestClient, UploadFile, default
from tests.helpers import RawClient

BOUNDARY = "----geetrio-test-boundary"
TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def part(name: str, data: bytes, filename: str | None = None, kind: str = "") -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if kind:
        head += f"Content-Type: {kind}\r\n"
    return head.encode() + b"\r\n" + data + b"\r\n"


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def spooled(spool: Path) -> int:
    """Descriptors of this process open on files in ``spool`` (unnamed: "(deleted)")."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += target.startswith(str(spool))
    return count


@dataclass
class Profile:
    name: str
    age: int


def app(tmp: Path, **limits: Any) -> Engine:
    """The test app: spooled files go to ``tmp/spool``, saved ones to ``tmp/saved``."""
    spool, saved = tmp / "spool", tmp / "saved"
    spool.mkdir(exist_ok=True)
    saved.mkdir(exist_ok=True)
    engine = default()
    engine.form_limits = FormLimits(spool_bytes=1000, spool_dir=str(spool), **limits)

    async def describe(c: Context) -> None:
        got = await c.form()
        files = {}
        for name, uploads in got.files.items():
            for upload in uploads:
                target = saved / upload.filename
                size = await upload.save(target)
                digest = hashlib.sha256(target.read_bytes()).hexdigest()
                files[name] = [
                    upload.filename,
                    size,
                    digest,
                    upload.in_memory,
                    upload.content_type,
                    spooled(spool),
                ]
        c.json(200, {"fields": got.fields, "files": files, "title": c.post_form("title")})

    engine.post("/upload", describe)
    engine.post("/stream", describe, stream_body=True)

    @engine.post("/avatar")
    async def avatar(c: Context) -> None:
        upload = await c.form_file("avatar")
        head = await upload.read(4)
        rest = await upload.read()
        c.json(200, {"head": head.decode(), "rest": len(rest), "name": upload.filename})

    @engine.post("/profile")
    async def profile(c: Context) -> None:
        found = await c.bind(Profile)
        c.json(200, {"name": found.name, "age": found.age})

    return engine


@pytest.mark.parametrize("route", ["/upload", "/stream"])
async def test_fields_and_files_arrive_whole_in_memory_or_spooled(
    tmp_path: Path, route: str
) -> None:
    spool = tmp_path / "spool"
    big = os.urandom(300_000)
    body = form(
        part("title", "café".encode()),
        part("tag", b"a"),
        part("tag", b"b"),
        part("small", b"hello", "notes.txt", "text/plain"),
        part("big", big, "../../etc/passwd", "application/octet-stream"),
        part("empty", b"", ""),  # a file input left empty: no file
    )
    async with TestClient(app(tmp_path)) as client:
        response = await client.post(route, body=body, headers={"Content-Type": TYPE})
        assert response.status == 200, response.text
        answer = response.json()
    assert answer["fields"] == {"title": ["café"], "tag": ["a", "b"]}
    assert answer["title"] == "café"
    small, large = answer["files"]["small"], answer["files"]["big"]
    assert small[:4] == ["notes.txt", 5, hashlib.sha256(b"hello").hexdigest(), True]
    assert large[:4] == ["passwd", len(big), hashlib.sha256(big).hexdigest(), False]
    assert large[4] == "application/octet-stream"
    assert large[5] == 1  # the big one was on disk, unnamed, while the handler ran
    assert "empty" not in answer["files"]
    assert spooled(spool) == 0 and os.listdir(spool) == []  # closed, nothing left


async def test_form_file_reads_and_bind_takes_multipart_fields(tmp_path: Path) -> None:
    async with TestClient(app(tmp_path)) as client:
        body = form(part("avatar", b"GIF89a" + bytes(5000), "me.gif", "image/gif"))
        response = await client.post("/avatar", body=body, headers={"Content-Type": TYPE})
        assert response.json() == {"head": "GIF8", "rest": 5002, "name": "me.gif"}
        response = await client.post(
            "/avatar", body=form(part("x", b"1")), headers={"Content-Type": TYPE}
        )
        assert response.status == 400
        assert response.json()["message"] == "no file in form field 'avatar'"
        body = form(part("name", b"Ada"), part("age", b"36"))
        response = await client.post("/profile", body=body, headers={"Content-Type": TYPE})
        assert response.json() == {"name": "Ada", "age": 36}
        body = form(part("name", b"Ada"), part("age", b"old"))
        response = await client.post("/profile", body=body, headers={"Content-Type": TYPE})
        assert response.status == 400
        assert [e["path"] for e in response.json()["errors"]] == ["age"]


@pytest.mark.parametrize(
    ("limits", "body", "status", "message"),
    [
        ({"max_parts": 3}, form(*[part(f"f{i}", b"x") for i in range(4)]), 400, "more than 3"),
        ({"max_field_bytes": 100}, form(part("f", b"x" * 101)), 413, "'f' is too large"),
        (
            {"max_file_bytes": 5000},
            form(part("f", bytes(5001), "a.bin")),
            413,
            "'a.bin' is too large",
        ),
        (
            {"max_body_bytes": 10_000},
            form(part("f", bytes(20_000), "a.bin")),
            413,
            "form is too large",
        ),
        (
            {"max_files": 2},
            form(*[part(f"f{i}", b"x", "a.txt") for i in range(3)]),
            400,
            "more than 2 files",
        ),
        (
            {"max_memory_bytes": 250},
            form(*[part(f"f{i}", b"x" * 100) for i in range(3)]),
            413,
            "fields are too large together",
        ),
        (
            {"max_part_header_bytes": 200},
            form(f"--{BOUNDARY}\r\nX-Pad: {'p' * 300}\r\n\r\nx\r\n".encode()),
            413,
            "headers",
        ),
    ],
)
async def test_limits_answer_413_or_400_and_leave_nothing_open(
    tmp_path: Path, limits: dict[str, int], body: bytes, status: int, message: str
) -> None:
    engine = app(tmp_path, **limits)
    async with TestClient(engine) as client:
        for route in ("/upload", "/stream"):
            response = await client.post(route, body=body, headers={"Content-Type": TYPE})
            assert response.status == status
            assert message in response.json()["message"]
            assert spooled(tmp_path / "spool") == 0
        good = form(part("f", b"ok"))
        assert (
            await client.post("/upload", body=good, headers={"Content-Type": TYPE})
        ).status == 200


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/form-data", form(part("f", b"x")), "boundary"),
        (f"multipart/form-data; boundary={'b' * 71}", b"", "boundary"),
        (TYPE, b"not a multipart body at all", "malformed"),
        (TYPE, part("f", bytes(5000), "cut.bin"), "before its closing boundary"),
        (
            TYPE,
            f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
            "without a name",
        ),
        (TYPE, f"--{BOUNDARY}\r\nbroken header line\r\n\r\n".encode(), "malformed"),
        (TYPE, b"", "before its closing boundary"),
    ],
)
async def test_malformed_bodies_answer_400_and_leave_no_temporary_file(
    tmp_path: Path, content_type: str, body: bytes, message: str
) -> None:
    async with TestClient(app(tmp_path)) as client:
        response = await client.post("/upload", body=body, headers={"Content-Type": content_type})
        assert response.status == 400
        assert message in response.json()["message"]
        assert spooled(tmp_path / "spool") == 0 and os.listdir(tmp_path / "spool") == []


async def test_small_files_past_the_memory_budget_go_to_disk(tmp_path: Path) -> None:
    """Many small files cannot pile up in memory: past ``max_memory_bytes`` (with the
    fields) each next file is spooled from its first byte."""
    engine = app(tmp_path, max_memory_bytes=2500)
    files = [part(f"f{i}", bytes(800), f"{i}.bin") for i in range(4)]
    body = form(part("note", b"n" * 500), *files)
    async with TestClient(engine) as client:
        response = await client.post("/upload", body=body, headers={"Content-Type": TYPE})
    got = response.json()["files"]
    # 500 of fields, then 800 + 800 in memory (2,100); the third would pass 2,500
    assert [got[f"f{i}"][3] for i in range(4)] == [True, True, False, False]
    assert [got[f"f{i}"][1] for i in range(4)] == [800] * 4


async def test_a_client_leaving_mid_upload_closes_the_spooled_file(
    nursery: trio.Nursery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []  # a spy on the spooled files made (they work as ever)
    real = tempfile.TemporaryFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "TemporaryFile", spy)
    engine = app(tmp_path)
    ended = trio.Event()
    outcome: list[str] = []

    @engine.post("/slow", stream_body=True)
    async def slow(c: Context) -> None:
        try:
            await c.form()
        except BaseException as exc:
            outcome.append(str(exc))
            raise
        finally:
            ended.set()

    port = await nursery.start(engine.serve, "127.0.0.1", 0)
    client = await RawClient.connect(port)
    head = f"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: {TYPE}\r\nContent-Length: 10000000\r\n\r\n"
    first = part("f", bytes(50_000), "big.bin")[:-10]  # no end of part: the file goes on
    await client.send(head.encode() + first)
    await client.aclose()  # the client goes away mid-file
    await ended.wait()
    # The parser consumed every byte that came before the end of the stream (50 KB, past
    # the 1,000-byte spool threshold: on disk) and only then saw the client gone.
    assert len(outcome) == 1 and "the client closed the connection" in outcome[0]
    assert len(made) == 1  # the file was spooled before the client left
    assert spooled(tmp_path / "spool") == 0 and os.listdir(tmp_path / "spool") == []


async def test_an_upload_saved_from_memory_and_from_disk_is_byte_exact(tmp_path: Path) -> None:
    for size in (10, 1000, 1001, 3 << 20):
        data = os.urandom(size)
        upload = UploadFile("f", "x", "a/b", [], spool_bytes=1000, spool_dir=str(tmp_path))
        for start in range(0, size, 65536):
            await upload.write(data[start : start + 65536])
        await upload.finish()
        assert upload.in_memory == (size <= 1000)
        assert await upload.save(tmp_path / "out") == size
        assert (tmp_path / "out").read_bytes() == data
        assert await upload.read(7) == data[:7]
        await upload.aclose()
    assert spooled(tmp_path) == 0
