"""The registry demo of the README, with the real programs: a registry, two servers
registering through heartbeats, calls and a broadcast through discovery."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parents[2]


async def start(nursery: trio.Nursery, script: str, *args: str) -> tuple[trio.Process, str]:
    """Run ``script`` (killed when the nursery is cancelled); its first output line."""
    process: trio.Process = await nursery.start(
        partial(
            trio.run_process,
            [sys.executable, str(ROOT / script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    )
    assert process.stdout is not None
    line = b""
    with trio.fail_after(20):
        while not line.endswith(b"\n"):
            chunk = await process.stdout.receive_some(256)
            assert chunk, f"{script} exited early"
            line += chunk
    return process, line.decode().strip()


async def call(*args: str) -> list[str]:
    result = await trio.run_process(
        [sys.executable, str(ROOT / "clients" / "rpc_call.py"), *args],
        capture_stdout=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    return result.stdout.decode().splitlines()


async def test_the_registry_demo() -> None:
    async with trio.open_nursery() as nursery:
        _, line = await start(nursery, "servers/rpc_registry.py", "--port", "0")
        assert line.startswith("registry http://127.0.0.1:")
        registry = line.split()[1]
        servers = []
        for _ in range(2):
            _, line = await start(nursery, "servers/rpc_server.py", "--registry", registry)
            assert line.startswith("rpc tcp@127.0.0.1:")
            servers.append(line.split()[1])
        replies = await call(
            "Arith.Add", '{"num1": 1, "num2": 2}', "--registry", registry, "--times", "4"
        )
        assert replies == ["3", "3", "3", "3"]
        assert await call(
            "Arith.Mul", '{"num1": 6, "num2": 7}', "--registry", registry, "--broadcast"
        ) == ["42"]
        direct = await call("Arith.Sleep", "0.01", "--server", servers[0])
        assert json.loads(direct[0]) == 0.01
        failed = await trio.run_process(
            [
                sys.executable,
                str(ROOT / "clients" / "rpc_call.py"),
                "Arith.Nope",
                "--server",
                servers[1],
            ],
            capture_stdout=True,
            check=False,
        )
        assert failed.returncode == 1 and b"can't find method Nope" in failed.stdout
        nursery.cancel_scope.cancel()
