"""The programs' security options, in one place: TLS for what they serve and dial, a
shared secret for what they tell each other, and the rule that a server reachable
beyond loopback has both — or is told ``--insecure``.

    --tls-cert FILE      this process's certificate chain, PEM (its key too, or --tls-key)
    --tls-key FILE       the key, when not in --tls-cert
    --tls-ca FILE        the CA our servers' certificates chain to: what clients verify
    --secret-file FILE   the cluster's shared secret (its first line)
    --insecure           serve beyond loopback without them (a trusted network only)

With ``--tls-cert``, every server of the program speaks TLS (HTTPS, WSS, RPC as
``tls@``); with a secret, cache peers, the registry and RPC calls require it
(``Authorization: Bearer``, the RPC token interceptor) and send it. An ``https://``
etcd is verified against ``--tls-ca`` and shown ``--tls-cert`` as a client certificate.
"""

from __future__ import annotations

import argparse
import ipaddress
import ssl
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geetrio import rpc
from geetrio.discovery import EtcdEndpoint
from geetrio.http import ServerConfig, client_ssl_context, server_ssl_context


@dataclass(frozen=True)
class Security:
    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None
    secret: str | None = None

    @property
    def tls(self) -> bool:
        return self.cert is not None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def network(self) -> str:
        """The RPC address form of our servers."""
        return "tls" if self.tls else "tcp"

    def server_context(self, alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext | None:
        if self.cert is None:
            return None
        return server_ssl_context(self.cert, self.key, alpn=alpn)

    def client_context(self, alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext | None:
        """Verifies our servers against ``--tls-ca`` (else the system's CAs)."""
        if self.ca is None and not self.tls:
            return None
        return client_ssl_context(self.ca, alpn=alpn)

    def etcd(self, url: str) -> EtcdEndpoint:
        """An ``https://`` etcd verified against ``--tls-ca``, shown our certificate
        (for etcd's ``--client-cert-auth``); an ``http://`` one as it is."""
        if not url.startswith("https://"):
            return EtcdEndpoint(url)
        context = client_ssl_context(self.ca, certfile=self.cert, keyfile=self.key)
        return EtcdEndpoint(url, ssl_context=context)

    def http_config(self) -> ServerConfig | None:
        context = self.server_context()
        return None if context is None else ServerConfig(ssl_context=context)

    def rpc_server(self, name: str = "rpc") -> rpc.Server:
        """A server needing the secret (when there is one), its calls in the metrics
        as ``name`` (refusals included)."""
        interceptors = [rpc.metrics_interceptor(name)]
        if self.secret:
            interceptors.append(rpc.token_interceptor([self.secret]))
        return rpc.Server(ssl_context=self.server_context(alpn=()), interceptors=interceptors)

    def rpc_metadata(self) -> dict[str, str] | None:
        """What an RPC call carries to servers that require the secret."""
        return {"authorization": f"Bearer {self.secret}"} if self.secret else None

    def rpc_interceptors(self) -> list[rpc.ClientInterceptor]:
        """For ``XClient(interceptors=)``: every call (broadcasts too) carries the
        secret."""
        metadata = self.rpc_metadata()
        if metadata is None:
            return []

        async def with_secret(call: rpc.ClientCall, proceed: Callable[[], Awaitable[Any]]) -> Any:
            call.metadata.update(metadata)
            return await proceed()

        return [with_secret]


PLAIN = Security()  # no TLS, no secret: loopback (or --insecure)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("security (see the README's 'Running it exposed')")
    group.add_argument("--tls-cert", type=Path, help="certificate chain (PEM), key included or not")
    group.add_argument("--tls-key", type=Path, help="the key, when not in --tls-cert")
    group.add_argument("--tls-ca", type=Path, help="the CA clients verify our servers against")
    group.add_argument("--secret-file", type=Path, help="the cluster's shared secret (first line)")
    group.add_argument(
        "--insecure",
        action="store_true",
        help="serve beyond loopback without TLS and a secret (a trusted network only)",
    )


def from_args(
    args: argparse.Namespace, host: str | None = None, *, serves: bool = True
) -> Security:
    """The options as a ``Security``; exits (status 2, one line on stderr) when a file
    cannot be read, or when ``host`` is beyond loopback and the program ``serves``
    without TLS and a secret, unless ``--insecure``."""
    try:
        for option in ("tls_cert", "tls_key", "tls_ca"):
            path = getattr(args, option)
            if path is not None:
                path.read_bytes()  # unreadable: say so now, not at the first handshake
        secret = _read_secret(args.secret_file) if args.secret_file else None
        security = Security(args.tls_cert, args.tls_key, args.tls_ca, secret)
        if security.tls:
            security.server_context()  # a certificate that does not load: now
    except (OSError, ValueError, ssl.SSLError) as exc:
        _exit(f"error: {exc}")
    if args.tls_key is not None and args.tls_cert is None:
        _exit("error: --tls-key needs --tls-cert")
    exposed = serves and host is not None and not is_loopback(host)
    if exposed and not (security.tls and security.secret) and not args.insecure:
        missing = " and ".join(
            what
            for what, given in (("--tls-cert", security.tls), ("--secret-file", security.secret))
            if not given
        )
        _exit(
            f"error: refusing to serve on {host or 'every address'} without {missing}: anyone "
            f"who reaches it could use it (give them, or --insecure on a trusted network)"
        )
    return security


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name other than localhost, or "" (every address)
        return False


def reachable(host: str) -> str:
    """The address a process's own clients use for a server bound to ``host``."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def _read_secret(path: Path) -> str:
    lines = path.read_text().splitlines()
    secret = lines[0].strip() if lines else ""
    if len(secret) < 16:
        raise ValueError(f"the secret in {path} is shorter than 16 characters")
    if not (secret.isascii() and secret.isprintable()) or " " in secret:
        raise ValueError(f"the secret in {path} must be printable ASCII without spaces")
    return secret


def _exit(message: str) -> Any:
    sys.stderr.write(message + "\n")
    raise SystemExit(2)
