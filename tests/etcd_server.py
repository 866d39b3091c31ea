"""A private etcd for a test: Debian's ``etcd`` on free loopback ports and a temporary
data folder; ``restart()`` kills it (SIGKILL, by PID) and starts it again on the same
ports and data; stopped by PID afterwards."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class Unavailable(RuntimeError):
    """No etcd binary on this machine."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class EtcdServer:
    def __init__(self) -> None:
        binary = shutil.which("etcd")
        if binary is None:
            raise Unavailable(
                "no etcd binary (Debian: apt-get install etcd-server; `make test` installs it)"
            )
        self.binary = binary
        self.folder = Path(tempfile.mkdtemp(prefix="geetrio-etcd-"))
        self.client_port, self.peer_port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.client_port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        peer = f"http://127.0.0.1:{self.peer_port}"
        log = open(self.folder / "log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [self.binary, "--name", "t", "--data-dir", str(self.folder / "data"),
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", f"t={peer}"],
            stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # a real server's start-up: poll its port
            try:
                with socket.create_connection(("127.0.0.1", self.client_port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"etcd exited: {(self.folder / 'log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.05)
        raise RuntimeError("etcd did not listen within 20 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
