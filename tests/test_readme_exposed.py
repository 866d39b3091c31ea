"""The README's "Running it exposed" walk-through, as written: its openssl commands make a
private CA, a certificate and a secret; the stack started with those files (on
loopback, advertised as ``localhost``, a name in the certificate) answers over HTTPS to
a client that trusts that CA, and ``clients/rpc_call.py`` calls through its registry."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import trio

from geetrio.http import HTTPClient, client_ssl_context
from tests.test_stack import ROOT, stack


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Running it exposed") :]
    script = re.search(r"```sh\n(mkdir -p pki.*?)```", section, re.S)
    assert script, "the README's openssl walk-through is gone"
    return script.group(1)


async def test_the_readme_walkthrough_makes_files_the_stack_runs_with(tmp_path: Path) -> None:
    done = await trio.run_process(
        ["bash", "-e", "-c", walkthrough()], cwd=tmp_path, capture_stderr=True, check=False
    )
    assert done.returncode == 0, done.stderr
    pki = tmp_path / "pki"
    files = [
        *("--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key")),
        *("--tls-ca", str(pki / "ca.pem"), "--secret-file", str(pki / "secret")),
    ]
    async with stack("--advertise", "localhost", *files) as (process, urls, _):
        assert urls["web"].startswith("https://localhost:")
        async with HTTPClient(ssl_context=client_ssl_context(pki / "ca.pem")) as client:
            assert (await client.get(urls["web"] + "/api?key=Tom")).body == b"630"
        call = [sys.executable, str(ROOT / "clients" / "rpc_call.py"), "Scores.Get", '"Tom"']
        call += ["--tls-ca", str(pki / "ca.pem"), "--secret-file", str(pki / "secret")]
        result = await trio.run_process(
            [*call, "--registry", urls["registry"]], capture_stdout=True, check=False
        )
        assert result.returncode == 0 and result.stdout.strip() == b"630", result.stdout
        process.terminate()
