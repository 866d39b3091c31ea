"""The one URL parser: http only, IPv6 in brackets, port 80 by default, clear errors."""

from __future__ import annotations

import pytest

from geetrio._core.urls import authority, parse_http_url


def test_urls_split() -> None:
    url = parse_http_url("http://[::1]:8001/_geerpc_/registry?x=1")
    assert (url.host, url.port, url.path, url.query) == ("::1", 8001, "/_geerpc_/registry", "x=1")
    assert url.target == "/_geerpc_/registry?x=1"
    assert parse_http_url("http://LocalHost").port == 80
    assert parse_http_url("http://h:1").target == "/"
    assert authority("::1", 80) == "[::1]:80" and authority("h", 1) == "h:1"


@pytest.mark.parametrize(
    "url", ["https://h:1", "h:1", "http://:1", "http://h:99999", "http://h:x", "http://[::1:1"]
)
def test_bad_urls_say_what_a_url_looks_like(url: str) -> None:
    with pytest.raises(ValueError, match="a peer URL looks like http://host:port/path"):
        parse_http_url(url, "a peer URL")


def test_a_port_can_be_required() -> None:
    with pytest.raises(ValueError):
        parse_http_url("http://h/", need_port=True)
