"""The day examples of GeeCache, GeeORM and GeeRPC run as programs and print what their
docstrings promise. (Gee's days are driven in-process: tests/web/test_examples_and_demo.py.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import trio

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

PROMISES = {
    "cache/day1_lru.py": "evicted: ['Jack'], 3 entries, 20 bytes",
    "cache/day2_single_node.py": "loads per key: {'Tom': 1, 'Jack': 1, 'Sam': 1}",
    "cache/day3_http_server.py": "/_geecache/scores/Tom -> 200, value 630",
    "cache/day4_consistent_hash.py": "(only its own keys move)",
    "cache/day5_distributed_nodes.py": "Alice  = 701",
    "cache/day6_single_flight.py": "1000 callers got {b'630'}; the loader ran 1 time(s)",
    "cache/day7_protobuf.py": "Response{value: 630} -> b'\\n\\x03630'",
    "orm/day1_database_sql.py": "query_rows: [('Tom',), ('Sam',)]",
    "orm/day2_reflect_schema.py": "UnsupportedType: Broken.tags: type list[str]",
    "orm/day3_save_query.py": "find: [User(name='Tom', age=18), User(name='Sam', age=25)]",
    "orm/day4_chain_operation.py": "left: [User(name='Ann', age=31), User(name='Tom', age=30)]",
    "orm/day5_hooks.py": "stored: [(1, '######'), (2, '######')]",
    "orm/day6_transaction.py": "cancelled and rolled back; rows: 2",
    "orm/day7_migrate.py": "columns now: ['name', 'xxx']",
    "orm/day8_relations.py": "preloaded 3 users, 6 posts, 3 comments in 3 statements",
    "rpc/day1_codec.py": "reply: {'ServiceMethod': 'Foo.Sum', 'Seq': 3, 'Error': ''} body 12",
    "rpc/day2_client.py": "replies arrived in the order [4, 3, 2, 1, 0]",
    "rpc/day3_service.py": "Arith.helper: rpc server: can't find method helper",
    "rpc/day4_timeout.py": "server: rpc server: request handle timeout: expect within 0.1s",
    "rpc/day5_http_debug.py": "<tr><td>Sum</td><td>Args</td><td>int</td><td>3</td></tr>",
    "rpc/day6_load_balance.py": "round robin: ['",
    "rpc/day7_registry.py": "calls through discovery: ['one', 'one', 'two', 'two']",
}


async def run_example(script: str) -> str:
    result = await trio.run_process(
        [sys.executable, str(EXAMPLES / script)], capture_stdout=True, capture_stderr=True
    )
    return result.stdout.decode()


@pytest.mark.parametrize(("script", "expected"), list(PROMISES.items()))
async def test_example(script: str, expected: str) -> None:
    output = await run_example(script)
    assert expected in output, output


async def test_cache_day5_every_key_is_loaded_by_its_owner() -> None:
    output = await run_example("cache/day5_distributed_nodes.py")
    lines = [line for line in output.splitlines() if "owner" in line]
    assert len(lines) == 5
    for line in lines:
        owner = line.split("owner ")[1].split()[0]
        loaded_by = line.split("loaded by ")[1].strip()
        assert owner == loaded_by


async def test_rpc_day6_alternates_and_day4_cancels() -> None:
    day6 = await run_example("rpc/day6_load_balance.py")
    line = next(x for x in day6.splitlines() if x.startswith("round robin"))
    answers = line.split(": ", 1)[1]
    assert answers in ("['one', 'two', 'one', 'two']", "['two', 'one', 'two', 'one']")
    assert "handlers the server cancelled: 3" in await run_example("rpc/day4_timeout.py")
