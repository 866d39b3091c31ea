"""Go programs of our own, built with Debian's ``golang-go`` (``make test`` installs
it): standard library only, the build cache in a temporary folder, no network."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import partial
from pathlib import Path

import pytest
import trio

from tests.helpers import read_until

HERE = Path(__file__).resolve().parent


def build(program: str, out: Path) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.fail("go is missing: `make test` installs golang-go")
    binary = out / program
    env = {
        **os.environ,
        "GOCACHE": str(out / "gocache"),
        "GOPATH": str(out / "gopath"),
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
    }
    subprocess.run(
        [go, "build", "-o", str(binary), str(HERE / "go" / program / "main.go")],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return binary


async def go_server(
    nursery: trio.Nursery, binary: Path, mode: str = "server"
) -> tuple[trio.Process, str]:
    """``binary mode`` in the nursery, and the address it printed it listens on."""
    process: trio.Process = await nursery.start(
        partial(trio.run_process, [str(binary), mode], stdout=subprocess.PIPE, check=False)
    )
    assert process.stdout is not None
    with trio.fail_after(10):
        line = await read_until(process.stdout, lambda o: o.endswith(b"\n"), binary.name)
    return process, line.decode().split()[1]
