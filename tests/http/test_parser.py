"""The sans-IO request parser: bytes in, requests or a ProtocolError out."""

from __future__ import annotations

import gc
import weakref

import pytest

from geetrio.http import ProtocolError, RequestParser, ServerConfig


def parse_all(*chunks: bytes, config: ServerConfig | None = None) -> list:
    parser = RequestParser(config)
    requests = []
    for chunk in chunks:
        parser.feed(chunk)
        while (request := parser.next_request()) is not None:
            requests.append(request)
    return requests


def status_of(*chunks: bytes, config: ServerConfig | None = None) -> int:
    with pytest.raises(ProtocolError) as info:
        parse_all(*chunks, config=config)
    return info.value.status


def test_simple_get() -> None:
    [request] = parse_all(b"GET /hello/world?x=1&y=2 HTTP/1.1\r\nHost: a\r\nX-Thing: 1\r\n\r\n")
    assert request.method == "GET"
    assert request.target == "/hello/world?x=1&y=2"
    assert request.path == "/hello/world"
    assert request.query_string == "x=1&y=2"
    assert request.headers["x-thing"] == "1"
    assert request.headers["X-THING"] == "1"
    assert request.keep_alive
    assert request.body == b""


def test_pipelined_requests_come_out_in_order_even_split_anywhere() -> None:
    data = (
        b"".join(f"GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n".encode() for i in range(5))
        + b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
    )
    for cut in range(1, len(data)):
        requests = parse_all(data[:cut], data[cut:])
        assert [r.path for r in requests] == ["/0", "/1", "/2", "/3", "/4", "/p"]
        assert requests[-1].body == b"hello"


def test_byte_by_byte_feeding() -> None:
    data = b"POST /x%20y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    [request] = parse_all(*(data[i : i + 1] for i in range(len(data))))
    assert request.path == "/x y"
    assert request.body == b"abcde"


def test_percent_decoding_and_utf8() -> None:
    [request] = parse_all(b"GET /caf%C3%A9/%2e%2e/a HTTP/1.1\r\nHost: a\r\n\r\n")
    assert request.path == "/café/../a"
    assert request.target == "/caf%C3%A9/%2e%2e/a"


@pytest.mark.parametrize("target", [b"/bad%zz", b"/bad%", b"/bad%4", b"/notutf8%ff%fe"])
def test_broken_percent_encoding_is_400(target: bytes) -> None:
    assert status_of(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n") == 400


def test_http10_defaults_to_close_and_keep_alive_header_keeps_it() -> None:
    [r1] = parse_all(b"GET / HTTP/1.0\r\n\r\n")
    assert not r1.keep_alive
    [r2] = parse_all(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert r2.keep_alive
    [r3] = parse_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert not r3.keep_alive


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"garbage\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 needs Host
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n", 417),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    ],
)
def test_malformed_requests(data: bytes, status: int) -> None:
    assert status_of(data) == status


@pytest.mark.parametrize(
    "headers",
    [
        b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
        b"Content-Length: 3\r\nContent-Length: 4\r\n",
        b"Content-Length: 3\r\nContent-Length: 3\r\n",
    ],
)
def test_request_smuggling_attempts_are_400(headers: bytes) -> None:
    data = b"POST / HTTP/1.1\r\nHost: a\r\n" + headers + b"\r\nabcd"
    assert status_of(data) == 400


def test_limits() -> None:
    config = ServerConfig(max_header_bytes=1024, max_uri_bytes=100, max_body_bytes=10)
    long_uri = b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    assert status_of(long_uri, config=config) == 414
    big_header = b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 2000 + b"\r\n\r\n"
    assert status_of(big_header, config=config) == 431
    many_headers = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: y\r\n" * 200 + b"\r\n"
    assert status_of(many_headers, config=config) == 431
    declared = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"
    assert status_of(declared, config=config) == 413
    chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n"
    assert status_of(chunked, config=config) == 413
    [ok] = parse_all(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", config=config
    )
    assert ok.body == b"0123456789"


def test_uri_limit_applies_before_header_limit() -> None:
    config = ServerConfig(max_header_bytes=100, max_uri_bytes=50)
    assert status_of(b"GET /" + b"a" * 80 + b" HTTP/1.1\r\nHost: a\r\n\r\n", config=config) == 414


def test_an_endless_header_is_cut_off_without_a_line_end() -> None:
    """llhttp buffers an unfinished header internally; our count must still stop it."""
    config = ServerConfig(max_header_bytes=4096)
    parser = RequestParser(config)
    parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\nX-Endless: ")
    with pytest.raises(ProtocolError) as info:
        for _ in range(100):
            parser.feed(b"z" * 1000)
    assert info.value.status == 431


def test_expect_100_continue_is_reported_until_the_body_arrives() -> None:
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert parser.expects_continue and parser.in_progress and not parser.in_head
    assert parser.next_request() is None
    parser.feed(b"data")
    assert not parser.expects_continue
    request = parser.next_request()
    assert request is not None and request.body == b"data"


def test_upgrade_stops_the_parser_and_keeps_trailing_bytes() -> None:
    parser = RequestParser()
    parser.feed(
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"
    )
    request = parser.next_request()
    assert request is not None and request.upgrade
    assert request.keep_alive  # if the handler does not take it, serving goes on
    assert parser.upgraded and parser.trailing_data == b"\x81\x05hello"
    with pytest.raises(RuntimeError):
        parser.feed(b"more")


def test_an_upgrade_not_taken_resumes_with_the_pipelined_request() -> None:
    parser = RequestParser()
    parser.feed(
        b"GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n" + GET_B
    )
    first = parser.next_request()
    assert first is not None and first.upgrade and parser.upgraded
    assert parser.next_request() is None
    assert parser.resume() is True
    second = parser.next_request()
    assert second is not None and second.path == "/b" and not parser.upgraded


@pytest.mark.parametrize(
    "head",
    [
        b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /a HTTP/1.1\r\nHost: a\r\nUpgrade: foo\r\nConnection: Upgrade\r\nContent-Length: 3\r\n\r\nabc",
    ],
)
def test_no_way_back_after_connect_or_an_upgrade_with_a_body(head: bytes) -> None:
    parser = RequestParser()
    parser.feed(head + GET_B)
    request = parser.next_request()
    assert request is not None and request.upgrade and not request.keep_alive
    assert parser.resume() is False
    assert parser.next_request() is None


GET_B = b"GET /b HTTP/1.1\r\nHost: a\r\n\r\n"


def test_a_fragment_is_dropped_from_the_target() -> None:
    [r1, r2] = parse_all(
        b"GET /#frag HTTP/1.1\r\nHost: a\r\n\r\nGET /p?q=1#f HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    assert (r1.target, r1.path, r1.query_string) == ("/", "/", "")
    assert (r2.target, r2.path, r2.query_string) == ("/p?q=1", "/p", "q=1")


def test_a_decoded_nul_in_the_path_is_refused() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_all(b"GET /hello/a%00b HTTP/1.1\r\nHost: a\r\n\r\n")
    assert info.value.status == 400 and "NUL" in info.value.reason


@pytest.mark.parametrize(
    ("coding", "status"),
    [(b"gzip, chunked", 501), (b"chunked, chunked", 400), (b"gzip", 400), (b"chunked, gzip", 400)],
)
def test_transfer_codings_other_than_chunked(coding: bytes, status: int) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_all(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + coding + b"\r\n\r\n0\r\n\r\n"
        )
    assert info.value.status == status


def test_the_parser_lets_go_of_each_body_when_its_request_is_complete() -> None:
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
    request = parser.next_request()
    assert request is not None and request.body == b"hello"
    assert parser._body == []  # only the request holds it now


def test_a_closed_parser_is_freed_by_reference_counting() -> None:
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel")
    gone = weakref.ref(parser)
    gc.disable()  # only reference counting may free it
    try:
        parser.close()
        del parser
        assert gone() is None
    finally:
        gc.enable()
