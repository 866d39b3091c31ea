"""A geetrio HTTP server in its own process, for tests that measure the process
(memory, descriptors). Prints its port, then serves until killed.

    python tests/http/child_server.py [--nofile N]
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys

import trio

from geetrio.http import Request, Response, serve


async def handler(request: Request) -> Response:
    return Response(200, [("content-type", "text/plain")], b"%d" % len(request.body))


async def main() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve, handler, "127.0.0.1", 0)
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nofile", type=int, help="soft limit of open file descriptors")
    args = parser.parse_args()
    if args.nofile:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, hard))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    trio.run(main)
