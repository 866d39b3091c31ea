"""Day 7 — protobuf on the wire: geecachepb.Request and Response, without protoc.

python examples/cache/day7_protobuf.py
"""

from geetrio.cache.protocol import Request, Response, decode_response, encode_response


def main() -> None:
    request = Request(group="scores", key="Tom")
    wire = request.SerializeToString()
    print(f"Request{{group: scores, key: Tom}} -> {wire!r} ({len(wire)} bytes)")
    body = encode_response(b"630")
    print(f"Response{{value: 630}} -> {body!r}; decoded back: {decode_response(body)!r}")
    print(f"field names: {[f.name for f in Response.DESCRIPTOR.fields]}")


if __name__ == "__main__":
    main()
