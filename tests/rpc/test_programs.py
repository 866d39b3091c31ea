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


async def test_the_registry_demo_over_tls_with_a_secret(
    pki: dict[str, Path], tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("programs-secret-0123456789\n")
    serve = ["--tls-cert", str(pki["server"]), "--secret-file", str(secret)]
    trust = ["--tls-ca", str(pki["ca"]), "--secret-file", str(secret)]
    async with trio.open_nursery() as nursery:
        _, line = await start(nursery, "servers/rpc_registry.py", "--port", "0", *serve)
        assert line.startswith("registry https://127.0.0.1:")
        registry = line.split()[1]
        servers = []
        for _ in range(2):
            _, line = await start(
                nursery, "servers/rpc_server.py", "--registry", registry, *serve, *trust
            )
            assert line.startswith("rpc tls@127.0.0.1:")
            servers.append(line.split()[1])
        add = ["Arith.Add", '{"num1": 1, "num2": 2}']
        assert await call(*add, "--registry", registry, "--times", "2", *trust) == ["3", "3"]
        mul = ["Arith.Mul", '{"num1": 6, "num2": 7}', "--registry", registry, "--broadcast"]
        assert await call(*mul, *trust) == ["42"]
        # Without the secret: the registry's listing is closed; a direct call is refused.
        no_secret = ["--tls-ca", str(pki["ca"])]
        for args in (["--registry", registry], ["--server", servers[0]]):
            failed = await trio.run_process(
                [sys.executable, str(ROOT / "clients" / "rpc_call.py"), *add, *args, *no_secret],
                capture_stdout=True,
                check=False,
            )
            assert failed.returncode == 1, failed.stdout
            assert b"401" in failed.stdout or b"refused" in failed.stdout, failed.stdout
        nursery.cancel_scope.cancel()


def test_an_exposed_rpc_server_or_registry_refuses_to_start_without_tls() -> None:
    for script in ("servers/rpc_server.py", "servers/rpc_registry.py"):
        done = subprocess.run(
            [sys.executable, str(ROOT / script), "--host", "0.0.0.0", "--port", "0"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 2 and "refusing to serve on 0.0.0.0" in done.stderr, script
