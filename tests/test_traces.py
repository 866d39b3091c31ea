"""Traces across the layers (issue 20), with OpenTelemetry's SDK and its in-memory
exporter: one ``/api`` request whose key loads through a peer is one trace — the
client's request, the web request, the cache load, the peer fetch and the peer's own
server span, its getter and the SQL statement — with every parent link intact; an RPC
call's and an HTTP client's traces continue on the server; and across processes (a
cache node in another process, ``--trace-file``) the trace id arrives."""

from __future__ import annotations

import contextlib
import itertools
import json
import subprocess
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import trio
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from geetrio import orm, rpc
from geetrio.cache import Group, HTTPPool
from geetrio.http import HTTPClient
from geetrio.web import Context, Engine
from tests.helpers import free_port, read_until
from tests.rpc.test_calls import Args, Foo, memory_client
from tests.tracing import by_name

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Score:
    __tablename__ = "scores"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    score: int = 0


async def node(
    nursery: trio.Nursery, engine: orm.Engine, urls: list[str], index: int, app: Engine
) -> tuple[Group, HTTPPool]:
    """One cache node of the cluster, reading the scores table."""
    scores = engine.new_session().model(Score)

    async def load(key: str) -> bytes:
        row = await scores.where("name = ?", key).first()
        return str(row.score).encode()

    group = Group("scores", 1 << 20, load, hot_probability=0.0)
    pool = HTTPPool(urls[index], groups=lambda name: group if name == "scores" else None)
    pool = await nursery.start(hold, pool)
    pool.set(*urls)
    pool.mount(app)
    group.register_peers(pool)
    return group, pool


async def hold(pool: HTTPPool, task_status: trio.TaskStatus[HTTPPool]) -> None:
    async with pool:
        task_status.started(pool)
        await trio.sleep_forever()


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_one_request_through_a_peer_is_one_trace(
    nursery: trio.Nursery, tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    engine = await orm.Engine.open("sqlite3", tmp_path / "scores.db")
    await engine.migrate(Score)
    await engine.new_session().insert(*(Score(f"player-{i}", i) for i in range(50)))
    apps = [Engine(), Engine()]
    ports = [await nursery.start(app.serve, "127.0.0.1", 0) for app in apps]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    here, _ = await node(nursery, engine, urls, 0, apps[0])
    await node(nursery, engine, urls, 1, apps[1])

    @apps[0].get("/api")
    async def api(c: Context) -> None:
        c.data(200, await here.get(c.query("key")))

    pool = here._peers
    assert isinstance(pool, HTTPPool)
    key = next(f"player-{i}" for i in range(50) if pool.owner(f"player-{i}") == urls[1])
    async with HTTPClient() as client:
        spans.clear()
        response = await client.get(f"{urls[0]}/api?key={key}")
    assert response.body == key.removeprefix("player-").encode()
    await engine.close()

    found = by_name(spans.get_finished_spans())
    assert set(found) == {
        "HTTP GET",  # the test's own client
        "GET /api",
        "geecache load",
        "geecache GET peer",
        "GET /_geecache/*path",
        "geecache getter",
        "SELECT",
    }, sorted(found)
    (sent,) = found["HTTP GET"]
    (request,) = found["GET /api"]
    client_load, peer_load = sorted(found["geecache load"], key=lambda s: s.start_time or 0)
    (fetch,) = found["geecache GET peer"]
    (served,) = found["GET /_geecache/*path"]
    (getter,) = found["geecache getter"]
    (select,) = found["SELECT"]
    every = [sent, request, client_load, fetch, served, peer_load, getter, select]
    assert {s.context.trace_id for s in every} == {sent.context.trace_id}  # one trace
    assert sent.parent is None and request.kind is SpanKind.SERVER
    links = itertools.pairwise(every)
    assert all(parent_of(child) == parent.context.span_id for parent, child in links)
    assert served.parent is not None and served.parent.is_remote  # over the traceparent header
    assert request.parent is not None and request.parent.is_remote
    assert fetch.kind is SpanKind.CLIENT and served.kind is SpanKind.SERVER
    assert request.attributes is not None and request.attributes["http.route"] == "/api"
    assert request.attributes["http.response.status_code"] == 200
    assert select.attributes is not None and select.attributes["db.system.name"] == "sqlite"
    assert "FROM" in str(select.attributes["db.query.text"])
    assert getter.attributes is not None and getter.attributes["geecache.key"] == key


async def test_an_rpc_call_continues_its_trace_on_the_server(
    autojump_clock: trio.testing.MockClock, spans: InMemorySpanExporter
) -> None:
    server = rpc.Server()
    server.register(Foo())
    async with memory_client(server, rpc.Option(handle_timeout=2.0)) as client:
        assert await client.call("Foo.Sum", Args(1, 2)) == 3
        with contextlib.suppress(rpc.RemoteError):
            await client.call("Foo.Boom", "kaboom")
        with contextlib.suppress(rpc.RemoteError):
            await client.call("Foo.Wait", "forever")  # the server's handle timeout
    found = spans.get_finished_spans()
    calls = [s for s in found if s.kind is SpanKind.CLIENT]
    served = [s for s in found if s.kind is SpanKind.SERVER]
    assert [s.name for s in calls] == ["Foo.Sum", "Foo.Boom", "Foo.Wait"]
    assert sorted(s.name for s in served) == ["Foo.Boom", "Foo.Sum", "Foo.Wait"]
    for call in calls:
        (answer,) = [s for s in served if s.name == call.name]
        assert answer.context.trace_id == call.context.trace_id
        assert parent_of(answer) == call.context.span_id
        assert answer.attributes is not None and answer.attributes["rpc.method"] == call.name[4:]
    status = {s.name: (s.kind, s.status.status_code) for s in found}
    assert status == {  # the last of each name wins: the server's spans end first
        "Foo.Sum": (SpanKind.CLIENT, StatusCode.UNSET),
        "Foo.Boom": (SpanKind.CLIENT, StatusCode.ERROR),
        "Foo.Wait": (SpanKind.CLIENT, StatusCode.ERROR),
    }


async def test_the_trace_id_arrives_at_a_node_in_another_process(
    nursery: trio.Nursery, tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    trace_file = tmp_path / "spans.jsonl"
    port = free_port()
    other = f"http://127.0.0.1:{port}"
    process: trio.Process = await nursery.start(
        partial(
            trio.run_process,
            [
                sys.executable,
                str(ROOT / "servers" / "cache_node.py"),
                "--self",
                other,
                "--trace-file",
                str(trace_file),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    )
    assert process.stdout is not None
    with trio.fail_after(20):
        await read_until(process.stdout, lambda o: o.endswith(b"ready\n"), "cache_node.py")
    me = "http://127.0.0.1:1"  # never dialled: only the other node owns keys we ask for
    async with HTTPPool(me) as pool:
        pool.set(me, other)
        group = Group("scores", 1 << 20, lambda key: b"local", hot_probability=0.0)
        group.register_peers(pool)
        key = next(f"key-{i}" for i in range(1000) if pool.owner(f"key-{i}") == other)
        spans.clear()
        # The other node's slow DB has no such key: it answers 500, and we load it here.
        assert await group.get(key) == b"local"
    (fetch,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert fetch.attributes is not None and fetch.attributes["http.response.status_code"] == 500
    process.kill()
    lines = [json.loads(line) for line in trace_file.read_text().splitlines()]
    theirs = [s for s in lines if s["context"]["trace_id"] == f"0x{fetch.context.trace_id:032x}"]
    names = sorted(s["name"] for s in theirs)
    assert names == ["GET /_geecache/*path", "geecache getter", "geecache load"]
    (served,) = [s for s in theirs if s["kind"] == "SpanKind.SERVER"]
    assert served["parent_id"] == f"0x{fetch.context.span_id:016x}"
    assert served["resource"]["attributes"]["service.name"] == "cache-node"
    assert served["status"]["status_code"] == "ERROR"  # it answered 500


async def test_the_http_client_carries_its_trace_to_the_server(
    nursery: trio.Nursery, spans: InMemorySpanExporter
) -> None:
    app = Engine()

    @app.get("/hello/:name")
    async def hello(c: Context) -> None:
        c.string(200, "hi")

    port = await nursery.start(app.serve, "127.0.0.1", 0)
    async with HTTPClient() as client:
        assert (await client.get(f"http://127.0.0.1:{port}/hello/you?x=1")).status == 200
    found = spans.get_finished_spans()
    (sent,) = [s for s in found if s.kind is SpanKind.CLIENT]
    (served,) = [s for s in found if s.kind is SpanKind.SERVER]
    assert (sent.name, served.name) == ("HTTP GET", "GET /hello/:name")
    assert parent_of(served) == sent.context.span_id
    assert sent.attributes is not None and sent.attributes["url.path"] == "/hello/you"
    assert sent.attributes["http.response.status_code"] == 200
