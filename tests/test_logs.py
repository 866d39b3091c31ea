"""JSON logs (issue 20): ``geetrio.logs.JSONFormatter`` writes one object per line with
the request id (``web.request_id()``) and the current span's trace id; the programs'
``--log-format json`` does so for real: the demo's access log line, parsed."""

from __future__ import annotations

import io
import json
import logging
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from geetrio.http import HTTPClient
from geetrio.logs import JSONFormatter
from geetrio.web import Context, Engine, logger, request_id
from tests.helpers import RawClient, get, read_until

ROOT = Path(__file__).resolve().parents[1]
app_log = logging.getLogger("tests.app")
LISTENING = re.compile(rb"listening on http://[\d.]+:(\d+)")


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def parsed(out: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_each_line_carries_the_request_id_and_the_trace_id(
    nursery: trio.Nursery, lines: io.StringIO, spans: InMemorySpanExporter
) -> None:
    app = Engine()
    app.use(request_id(), logger())

    @app.get("/work")
    async def work(c: Context) -> None:
        app_log.info("working on %s", "it")
        c.string(200, "done")

    port = await nursery.start(app.serve, "127.0.0.1", 0)
    async with HTTPClient() as client:
        response = await client.get(
            f"http://127.0.0.1:{port}/work", headers=[("X-Request-ID", "req-42")]
        )
    assert response.status == 200
    app_log.info("outside any request")
    (server,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    trace_id = f"{server.context.trace_id:032x}"
    entries = [e for e in parsed(lines) if e["logger"] in ("tests.app", "geetrio.web")]
    assert [(e["logger"], e["message"]) for e in entries][:2] == [
        ("tests.app", "working on it"),
        ("geetrio.web", entries[1]["message"]),
    ]
    assert entries[1]["message"].startswith("[200] /work in ")
    for entry in entries[:2]:
        assert entry["request_id"] == "req-42"
        assert entry["trace_id"] == trace_id
        assert entry["level"] == "INFO"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])
    assert entries[2]["message"] == "outside any request"
    assert "request_id" not in entries[2] and "trace_id" not in entries[2]


def test_an_exception_and_hostile_text_stay_on_one_line(lines: io.StringIO) -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        app_log.exception('a key "\n{"level": "forged"}\u2028\x85')
    (entry,) = parsed(lines)
    assert entry["message"] == 'a key "\n{"level": "forged"}\u2028\x85'
    assert entry["level"] == "ERROR"
    assert entry["exception"].endswith("ValueError: bad\nvalue")
    assert lines.getvalue().count("\n") == 1  # one record, one line


async def test_a_program_logs_json_lines_with_the_request_id() -> None:
    demo = [sys.executable, str(ROOT / "servers" / "web_demo.py"), "--port", "0"]
    process = await trio.lowlevel.open_process(
        [*demo, "--log-format", "json"], stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        out = await read_until(process.stderr, LISTENING.search, "web_demo.py")
        match = LISTENING.search(out)
        assert match is not None
        client = await RawClient.connect(int(match.group(1)))
        home = await client.request(get("/", extra="X-Request-ID: from-the-test\r\n"))
        assert home.status == 200 and home.headers["x-request-id"] == "from-the-test"
        await client.aclose()
        out += await read_until(
            process.stderr, lambda more: b"from-the-test" in out + more, "web_demo.py"
        )
        process.send_signal(signal.SIGINT)
        out += await read_rest(process.stderr)
        assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await process.stderr.aclose()
    entries = [json.loads(line) for line in out.decode().splitlines()]  # every line is JSON
    (access,) = [e for e in entries if e.get("request_id") == "from-the-test"]
    assert access["logger"] == "geetrio.web" and access["message"].startswith("[200] / in ")


async def read_rest(stream: trio.abc.ReceiveStream) -> bytes:
    rest = b""
    while chunk := await stream.receive_some():
        rest += chunk
    return rest
