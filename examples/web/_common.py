"""Shared command line of the day examples: ``--host``/``--port``, logging, run."""

from __future__ import annotations

import argparse
import logging

from geetrio.web import Engine


def run(app: Engine, description: str) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app.run(f"{args.host}:{args.port}")
