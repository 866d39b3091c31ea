"""The GeeRPC day examples run and print what their docstrings promise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import trio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rpc"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("day1_codec.py", "reply: {'ServiceMethod': 'Foo.Sum', 'Seq': 3, 'Error': ''} body 12"),
        ("day2_client.py", "replies arrived in the order [4, 3, 2, 1, 0]"),
        ("day3_service.py", "Arith.helper: rpc server: can't find method helper"),
        ("day4_timeout.py", "server: rpc server: request handle timeout: expect within 0.1s"),
        ("day5_http_debug.py", "<tr><td>Sum</td><td>Args</td><td>int</td><td>3</td></tr>"),
        ("day6_load_balance.py", "round robin: ['"),
        ("day7_registry.py", "calls through discovery: ['one', 'one', 'two', 'two']"),
    ],
)
async def test_example(script: str, expected: str) -> None:
    result = await trio.run_process(
        [sys.executable, str(EXAMPLES / script)], capture_stdout=True, capture_stderr=True
    )
    assert expected in result.stdout.decode(), result.stdout.decode()


async def test_day6_alternates_and_day4_cancels() -> None:
    day6 = await trio.run_process(
        [sys.executable, str(EXAMPLES / "day6_load_balance.py")], capture_stdout=True
    )
    line = next(x for x in day6.stdout.decode().splitlines() if x.startswith("round robin"))
    answers = line.split(": ", 1)[1]
    assert answers in ("['one', 'two', 'one', 'two']", "['two', 'one', 'two', 'one']")
    day4 = await trio.run_process(
        [sys.executable, str(EXAMPLES / "day4_timeout.py")], capture_stdout=True
    )
    assert "handlers the server cancelled: 3" in day4.stdout.decode()
