"""Look keys up through a cache node's API.

    python clients/cache_get.py --api http://127.0.0.1:9999 Tom Jack Sam
    python clients/cache_get.py --api http://127.0.0.1:9999 --stats

Prints ``key = value`` per key (``key: error ...`` on failure; exit status 1 then).
``--tls-ca`` verifies an ``https://`` API against a private CA.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
from pathlib import Path
from urllib.parse import quote

import trio

from geetrio.http import ClientError, HTTPClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "servers"))
from security import add_arguments, from_args


async def lookup(
    api: str,
    keys: list[str],
    stats: bool,
    seconds_per_request: float,
    ssl_context: ssl.SSLContext | None = None,
) -> int:
    failures = 0
    async with HTTPClient(ssl_context=ssl_context) as client:
        for key in keys:
            try:
                with trio.fail_after(seconds_per_request):
                    response = await client.get(f"{api}/api?key={quote(key, safe='')}")
            except (ClientError, trio.TooSlowError) as exc:
                print(f"{key}: error: {exc or 'timed out'}")
                failures += 1
                continue
            if response.status == 200:
                print(f"{key} = {response.body.decode(errors='replace')}")
            else:
                text = response.body.decode(errors="replace").strip()
                print(f"{key}: error {response.status}: {text}")
                failures += 1
        if stats:
            with trio.fail_after(seconds_per_request):
                response = await client.get(f"{api}/api/stats")
            print(json.dumps(json.loads(response.body), indent=2))
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Look keys up through a GeeCache node's API")
    parser.add_argument("--api", default="http://127.0.0.1:9999", help="the API node's base URL")
    parser.add_argument("--stats", action="store_true", help="also print the node's stats")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("keys", nargs="*")
    add_arguments(parser)
    args = parser.parse_args()
    trusted = from_args(args, serves=False).client_context()
    api = args.api.rstrip("/")
    sys.exit(trio.run(lookup, api, args.keys, args.stats, args.timeout, trusted))


if __name__ == "__main__":
    main()
