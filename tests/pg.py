"""A private PostgreSQL server for a test run (or a benchmark): Debian's binaries, a
temporary data folder, a free loopback port, trust authentication, stopped afterwards.

    with private_postgres() as url:      # postgresql://postgres@127.0.0.1:PORT/postgres
        ...

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user
(``runuser``), which owns the data folder. Without the binaries ``Unavailable`` says
what is missing (``make test`` installs Debian's ``postgresql``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import Unavailable

PG_ROOT = Path("/usr/lib/postgresql")


def bindir() -> Path:
    versions = sorted(PG_ROOT.glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise Unavailable(
            f"no PostgreSQL server binaries under {PG_ROOT} (Debian: apt-get install "
            "postgresql; `make test` installs it)"
        )
    return versions[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _only_tls(folder: Path, data: Path, cert: Path, key: Path, owner: str | None) -> str:
    """Copy the certificate and key where the server may read them (the key 0600, as
    PostgreSQL insists), allow TLS connections only; the server options for it."""
    for source, name in ((cert, "server.crt"), (key, "server.key")):
        target = folder / name
        target.write_bytes(source.read_bytes())
        target.chmod(0o600)
        if owner is not None:
            shutil.chown(target, owner)
    (data / "pg_hba.conf").write_text("local all all trust\nhostssl all all 127.0.0.1/32 trust\n")
    return f" -c ssl=on -c ssl_cert_file={folder / 'server.crt'} -c ssl_key_file={folder / 'server.key'}"


@contextlib.contextmanager
def private_postgres(tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """``tls``: (certificate chain, key) — the server then takes TLS connections only
    (``hostssl`` in its pg_hba.conf; a plain one is refused)."""
    binaries = bindir()
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            raise Unavailable("running as root needs runuser (util-linux) to start PostgreSQL")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="geetrio-pg-"))
    data = folder / "data"
    try:
        if as_postgres:
            shutil.chown(folder, "postgres")
        run = [*as_postgres, str(binaries / "initdb"), "-D", str(data), "-A", "trust"]
        subprocess.run([*run, "-U", "postgres", "-E", "UTF8"], check=True, capture_output=True)
        port = _free_port()
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        if tls is not None:
            options += _only_tls(folder, data, *tls, owner="postgres" if as_postgres else None)
        subprocess.run(
            [*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
             "-l", str(folder / "log"), "-w", "-t", "30", "start"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast",
                 "-w", "stop"],
                capture_output=True,
            )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
