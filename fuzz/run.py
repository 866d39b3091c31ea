"""Coverage-guided fuzzing of one target of ``tests/fuzz/targets.py`` with atheris
(libFuzzer for Python). ``make fuzz`` runs every target for ``FUZZ_SECONDS`` each:

    python fuzz/run.py TARGET [libFuzzer flags, e.g. -max_total_time=60]

The corpus grows in ``fuzz/corpus/TARGET`` (seeded with one well-formed input, so the
fuzzer starts inside the protocol); a crash, a hang over ``-timeout`` seconds or a run
over ``-rss_limit_mb`` stops it and leaves the input in ``fuzz/crashes/``. Keep what it
finds as a regression test next to the boundary's tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports(include=["geetrio", "tests.fuzz"]):
    from geetrio import rpc
    from geetrio.cache.protocol import encode_response
    from geetrio.rpc.protocol import encode_message
    from tests.fuzz.targets import TARGETS

HEADER = json.dumps({"ServiceMethod": "Foo.Sum", "Seq": 1, "Error": ""}).encode()
SEEDS = {  # the first byte of each input is the chunk size the target feeds with
    "http_request": b"\x07GET /a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    b"POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "http_response": b"\x05HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "rpc_stream": b"\x09" + rpc.Option().encode() + encode_message(HEADER, b'{"num1":1,"num2":2}'),
    "cache_peer": b"/_geecache/scores/Tom" + encode_response(b"630"),
    "bridge_message": b'{"op": "call", "id": 1, "name": "fib", "args": [10]}',
}


def main() -> None:
    name, flags = sys.argv[1], sys.argv[2:]
    target = TARGETS[name]
    corpus = ROOT / "fuzz" / "corpus" / name
    crashes = ROOT / "fuzz" / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    (corpus / "seed").write_bytes(SEEDS[name])
    atheris.Setup([sys.argv[0], *flags, f"-artifact_prefix={crashes}/{name}-", str(corpus)], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
