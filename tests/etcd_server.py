"""A private etcd for a test: Debian's ``etcd`` on free loopback ports and a temporary
data folder; ``restart()`` kills it (SIGKILL, by PID) and starts it again on the same
ports and data; stopped by PID afterwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from tests.helpers import Unavailable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class EtcdServer:
    """``tls``: PEM paths ``key``, ``cert`` and ``ca`` — it serves ``https://`` and
    requires client certificates that CA signed (``--client-cert-auth``)."""

    def __init__(self, tls: dict[str, Path] | None = None) -> None:
        binary = shutil.which("etcd")
        if binary is None:
            raise Unavailable(
                "no etcd binary (Debian: apt-get install etcd-server; `make test` installs it)"
            )
        self.binary = binary
        self.folder = Path(tempfile.mkdtemp(prefix="geetrio-etcd-"))
        self.client_port, self.peer_port = _free_port(), _free_port()
        self.tls = tls
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.client_port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and return once it serves: etcd tells systemd ``READY=1`` on the
        socket named by ``NOTIFY_SOCKET`` when it does; ours is that socket."""
        peer = f"http://127.0.0.1:{self.peer_port}"
        notify_path = self.folder / "notify.sock"
        notify_path.unlink(missing_ok=True)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.bind(str(notify_path))
            notify.settimeout(20)
            log = open(self.folder / "log", "ab")  # noqa: SIM115 - the child owns it
            self.process = subprocess.Popen(
                [self.binary, "--name", "t", "--data-dir", str(self.folder / "data"),
                 "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                 "--initial-cluster", f"t={peer}", *self._tls_flags()],
                stdout=log, stderr=log, env={**os.environ, "NOTIFY_SOCKET": str(notify_path)},
            )  # fmt: skip
            log.close()
            try:
                while b"READY=1" not in notify.recv(4096):
                    pass
            except TimeoutError:
                self.kill()
                raise RuntimeError(
                    f"etcd did not get ready within 20 s: {(self.folder / 'log').read_text()[-2000:]}"
                ) from None

    def _tls_flags(self) -> list[str]:
        if self.tls is None:
            return []
        return ["--cert-file", str(self.tls["cert"]), "--key-file", str(self.tls["key"]),
                "--client-cert-auth", "--trusted-ca-file", str(self.tls["ca"])]  # fmt: skip

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
