"""The GeeCache day examples run and print what their docstrings promise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import trio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cache"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("day1_lru.py", "evicted: ['Jack'], 3 entries, 20 bytes"),
        ("day2_single_node.py", "loads per key: {'Tom': 1, 'Jack': 1, 'Sam': 1}"),
        ("day3_http_server.py", "/_geecache/scores/Tom -> 200, value 630"),
        ("day4_consistent_hash.py", "(only its own keys move)"),
        ("day5_distributed_nodes.py", "Alice  = 701"),
        ("day6_single_flight.py", "1000 callers got {b'630'}; the loader ran 1 time(s)"),
        ("day7_protobuf.py", "Response{value: 630} -> b'\\n\\x03630'"),
    ],
)
async def test_example(script: str, expected: str) -> None:
    result = await trio.run_process(
        [sys.executable, str(EXAMPLES / script)], capture_stdout=True, capture_stderr=True
    )
    assert expected in result.stdout.decode(), result.stdout.decode()


async def test_day5_every_key_is_loaded_by_its_owner() -> None:
    result = await trio.run_process(
        [sys.executable, str(EXAMPLES / "day5_distributed_nodes.py")], capture_stdout=True
    )
    lines = [line for line in result.stdout.decode().splitlines() if "owner" in line]
    assert len(lines) == 5
    for line in lines:
        owner = line.split("owner ")[1].split()[0]
        loaded_by = line.split("loaded by ")[1].strip()
        assert owner == loaded_by
