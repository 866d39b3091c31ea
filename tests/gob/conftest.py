"""The Go programs of ``go/``, each built once per run (``golang.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gob.golang import build


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
