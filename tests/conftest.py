"""Shared test settings: every async test runs under a trio-clock watchdog; a private
PostgreSQL server for the run, started when a test first needs it; OpenTelemetry's SDK
(``tests/tracing.py``) and its ``spans`` fixture."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
import trio
import trustme

from tests.tracing import spans

__all__ = ["spans"]  # a fixture, used by name

WATCHDOG_SECONDS = 30


def pytest_configure(config: pytest.Config) -> None:
    """OpenTelemetry's SDK, before any server asks for a tracer: spans are made in
    every test (the traced paths run everywhere) but kept only under ``spans``."""
    from tests import tracing

    tracing.install()


@pytest.hookimpl(tryfirst=True, wrapper=True)
def pytest_runtest_call(item: pytest.Function) -> Generator[None, None, None]:
    """Wrap each async test in ``trio.fail_after`` so a hang fails fast (on trio's
    clock: virtual seconds under ``autojump_clock``) instead of stalling the suite."""
    test = item.obj
    if inspect.iscoroutinefunction(test) and not hasattr(test, "hypothesis"):

        @functools.wraps(test)
        async def guarded(**kwargs: object) -> object:
            with trio.fail_after(WATCHDOG_SECONDS):
                return await test(**kwargs)

        item.obj = guarded
    return (yield)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """``postgresql://postgres@127.0.0.1:PORT/postgres`` of a server of our own (a
    temporary data folder, stopped after the run); the test fails if it cannot start."""
    from tests import pg

    try:
        with pg.private_postgres() as url:
            yield url
    except pg.Unavailable as exc:
        pytest.fail(f"cannot start PostgreSQL: {exc}")


def _private_etcd(tls: dict[str, Path] | None = None) -> Iterator[object]:
    """A private etcd of the test's own (``tests/etcd_server.py``), stopped after."""
    from tests.etcd_server import EtcdServer, Unavailable

    try:
        server = EtcdServer(tls=tls)
    except Unavailable as exc:
        pytest.fail(f"cannot start etcd: {exc}")
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def etcd_server() -> Iterator[object]:
    """A private etcd over plain HTTP."""
    yield from _private_etcd()


@pytest.fixture
def tls_etcd(pki: dict[str, Path]) -> Iterator[object]:
    """A private etcd over mutual TLS: ``https://``, client certificates of the test CA
    required (``--client-cert-auth``)."""
    yield from _private_etcd(
        {"key": pki["server-key"], "cert": pki["server-cert"], "ca": pki["ca"]}
    )


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """PEM files of a test CA (trustme): the CA, a server's key and chain (127.0.0.1,
    localhost; also as "server-key" and "server-cert"), a client's, and a client's from
    another CA."""
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("pki")
    paths = {
        "ca": folder / "ca.pem",
        "server": folder / "server.pem",
        "client": folder / "client.pem",
        "stranger": folder / "stranger.pem",
    }
    ca.cert_pem.write_to_path(str(paths["ca"]))
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.private_key_and_cert_chain_pem.write_to_path(str(paths["server"]))
    # The same, as separate files (for etcd, PostgreSQL)
    paths["server-key"], paths["server-cert"] = folder / "server.key", folder / "server.crt"
    server.private_key_pem.write_to_path(str(paths["server-key"]))
    paths["server-key"].chmod(0o600)  # PostgreSQL refuses a key others may read
    paths["server-cert"].write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    ca.issue_cert("client@example.com").private_key_and_cert_chain_pem.write_to_path(
        str(paths["client"])
    )
    other = trustme.CA().issue_cert("client@example.com")
    other.private_key_and_cert_chain_pem.write_to_path(str(paths["stranger"]))
    return paths
