"""The Go programs of ``go/``, each built once per run (``golang.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gob.golang import build


@pytest.fixture(scope="session")
def go_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the run's Go builds: binaries and one build cache."""
    return tmp_path_factory.mktemp("go")


@pytest.fixture(scope="session")
def gobecho(go_out: Path) -> Path:
    return build("gobecho", go_out)


@pytest.fixture(scope="session")
def geerpc(go_out: Path) -> Path:
    """The series' GeeRPC wire in Go (``go/geerpc``): a server, and clients."""
    return build("geerpc", go_out)


@pytest.fixture(scope="session")
def netrpc(go_out: Path) -> Path:
    """Go's standard net/rpc (``go/netrpc``): a server, and a client."""
    return build("netrpc", go_out)
