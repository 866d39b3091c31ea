"""Go programs of our own, built once per run with Debian's ``golang-go`` (``make
test`` installs it): standard library only, the build cache in a temporary folder,
no network."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def gobecho(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build("gobecho", tmp_path_factory.mktemp("go"))


@pytest.fixture(scope="session")
def geerpc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The series' GeeRPC wire in Go (``go/geerpc``): a server, and clients."""
    return build("geerpc", tmp_path_factory.mktemp("go"))


@pytest.fixture(scope="session")
def netrpc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Go's standard net/rpc (``go/netrpc``): a server, and a client."""
    return build("netrpc", tmp_path_factory.mktemp("go"))
