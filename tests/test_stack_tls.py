"""The main job exposed: ``servers/stack.py`` with a certificate from a private CA and a
shared secret — every channel speaks TLS, peers, the registry and RPC calls need the
secret, the live page works over ``wss://`` in Chromium, and SIGTERM still drains.
Without them, a non-loopback ``--host`` refuses to start."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from geetrio import rpc
from geetrio.http import ClientError, HTTPClient, client_ssl_context
from tests.browser.test_bridge_demos import launch
from tests.test_stack import ROOT, stack, stop

SECRET = "stack-secret-0123456789abcdef"


def watch_stats_over_wss(web: str) -> tuple[str, str]:
    """The home page's live stats table before and after some API requests, in Chromium
    (the bridge over wss://; the dashboard is tested in ``test_stack.py``). The page
    trusts the server through Playwright's ``ignore_https_errors`` (the browser's
    certificate-error flag, for this context only): the test CA is not in its store."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()
            page.goto(f"{web}/")
            page.wait_for_selector("#stats table", timeout=15_000)
            assert page.evaluate("location.protocol") == "https:"
            before = page.inner_html("#stats")
            for key in ("Tom", "Jack", "player-0002"):
                page.evaluate(f"fetch('/api?key={key}')")
            page.wait_for_function(
                f"document.querySelector('#stats').innerHTML !== {before!r}", timeout=15_000
            )
            return before, page.inner_html("#stats")
        finally:
            browser.close()


async def test_the_stack_over_tls_with_a_secret(pki: dict[str, Path], tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    options = ["--tls-cert", str(pki["server"]), "--tls-ca", str(pki["ca"])]
    async with stack(*options, "--secret-file", str(secret_file)) as (process, urls, _):
        web, registry = urls["web"], urls["registry"]
        assert all(urls[n].startswith("https://") for n in ("web", "registry", "cache-1"))
        assert urls["rpc-1"].startswith("tls@") and urls["rpc-2"].startswith("tls@")
        bearer = [("Authorization", f"Bearer {SECRET}")]
        async with HTTPClient(ssl_context=client_ssl_context(pki["ca"])) as client:
            assert (await client.get(f"{web}/api?key=Tom")).body == b"630"
            listed = (await client.get(f"{web}/registry")).body.decode()
            assert urls["rpc-1"] in listed and urls["rpc-2"] in listed
            peer = urls["cache-2"] + "/_geecache/scores/Jack"
            assert (await client.get(peer)).status == 401  # no secret: refused
            assert (await client.request("GET", peer, headers=bearer)).status == 200
            assert (await client.get(registry)).status == 401  # the listing is closed
        async with HTTPClient() as plain:  # the system's CAs: the private CA is unknown
            with pytest.raises(ClientError, match="certificate verify failed"):
                await plain.get(f"{web}/api?key=Tom")
            with pytest.raises(ClientError):  # plain HTTP to a TLS port
                await plain.get(web.replace("https://", "http://") + "/api?key=Tom")

        discovery = rpc.RegistryDiscovery(
            registry, secret=SECRET, ssl_context=client_ssl_context(pki["ca"])
        )
        tls = client_ssl_context(pki["ca"], alpn=())
        async with rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN, ssl_context=tls) as xc:
            with pytest.raises(rpc.RemoteError, match="refused"):  # no token
                await xc.call("Scores.Set", {"name": "Tom", "score": 1}, timeout=5)
            token = {"authorization": f"Bearer {SECRET}"}
            set_tom = {"name": "Tom", "score": 700}
            assert await xc.call("Scores.Set", set_tom, timeout=5, metadata=token) is True
            assert await xc.call("Scores.Get", "Tom", timeout=5, metadata=token) == 700
        async with HTTPClient(ssl_context=client_ssl_context(pki["ca"])) as client:
            assert (await client.get(f"{web}/api?key=Tom")).body == b"700"

        before, after = await trio.to_thread.run_sync(watch_stats_over_wss, web)
        assert before != after
        await stop(process, signal.SIGTERM)


@pytest.mark.parametrize(
    ("extra", "missing"),
    [
        ([], "--tls-cert and --secret-file"),
        (["--tls-cert", "{server}"], "--secret-file"),
    ],
)
def test_an_exposed_stack_without_tls_and_a_secret_refuses_to_start(
    pki: dict[str, Path], extra: list[str], missing: str
) -> None:
    command = [sys.executable, str(ROOT / "servers" / "stack.py"), "--host", "0.0.0.0"]
    command += [arg.format(server=pki["server"]) for arg in extra]
    done = subprocess.run([*command, "--port", "0"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stdout == ""  # nothing started: no "ready", no URLs
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and f"without {missing}" in lines[0], done.stderr


def test_a_short_or_missing_secret_file_is_a_clear_error(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("abc\n")
    for path, says in ((short, "shorter than 16"), (tmp_path / "none", "No such file")):
        command = [sys.executable, str(ROOT / "servers" / "stack.py"), "--secret-file", str(path)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert done.returncode == 2 and says in done.stderr, done.stderr


async def test_the_stack_on_a_postgresql_that_takes_tls_only(pki: dict[str, Path]) -> None:
    """``--db postgresql://...?sslmode=verify-full&sslrootcert=CA``: psycopg (libpq) does
    the TLS and verifies the server; the same URL with ``sslmode=disable`` is refused."""
    import psycopg

    from tests import pg

    with pg.private_postgres(tls=(pki["server-cert"], pki["server-key"])) as url:
        with pytest.raises(psycopg.OperationalError, match="no encryption"):
            psycopg.connect(url + "?sslmode=disable").close()
        verified = f"{url}?sslmode=verify-full&sslrootcert={pki['ca']}"
        async with stack("--db", verified) as (process, urls, _):
            async with HTTPClient() as client:
                assert (await client.get(f"{urls['web']}/api?key=Sam")).body == b"567"
            await stop(process, signal.SIGTERM)
        with psycopg.connect(verified) as conn:
            assert conn.info.pgconn.ssl_in_use
            assert conn.execute("SELECT score FROM scores WHERE name = 'Sam'").fetchone() == (567,)


async def test_the_stack_exposed_on_an_etcd_over_mutual_tls(
    tls_etcd: Any, pki: dict[str, Path], tmp_path: Path
) -> None:
    """``--etcd https://...`` in TLS mode: the stack verifies etcd against ``--tls-ca``
    and shows it ``--tls-cert`` (etcd runs with ``--client-cert-auth``)."""
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    options = ["--tls-cert", str(pki["server"]), "--tls-ca", str(pki["ca"])]
    options += ["--secret-file", str(secret_file), "--etcd", tls_etcd.url]
    async with stack(*options) as (process, urls, _):
        async with HTTPClient(ssl_context=client_ssl_context(pki["ca"])) as client:
            listed = json.loads((await client.get(urls["web"] + "/registry")).body)
            assert listed["servers"] == sorted([urls["rpc-1"], urls["rpc-2"]])
        await stop(process, signal.SIGTERM)
