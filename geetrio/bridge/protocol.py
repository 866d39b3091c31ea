"""The bridge's message protocol, sans-IO: JSON text messages with ids.

Server to page (the page answers each with ``reply`` or ``error`` and the same ``id``;
``OPERATIONS`` is the table of them, which ``client.js`` is tested against):

    {"id": 1, "op": "alert", "text": "Hello World!"}
    {"id": 2, "op": "get", "selector": "#num", "prop": "value"}
    {"id": 3, "op": "set", "selector": "#ans", "prop": "innerHTML", "value": "89"}
    {"id": 4, "op": "on", "selector": "#btn", "event": "click", "handler": 7}
    {"id": 5, "op": "callback", "callback": 2, "args": [89]}
    {"id": 6, "op": "ready"}                         the page sets data-ready="true"

Page to server:

    {"id": 1, "op": "reply", "value": ...}          an answer to the server's id 1
    {"id": 1, "op": "error", "message": "..."}      the page could not do it
    {"id": 9, "op": "call", "name": "fib", "args": [10]}   await geetrio.call("fib", 10)
    {"op": "event", "handler": 7, "event": {"type": "click"}}

and the server answers a ``call`` with ``{"id": 9, "op": "result", "value": 89}`` or
``{"id": 9, "op": "fail", "message": "..."}`` (a rejected promise on the page).
A JS function passed as an argument arrives as ``{"$callback": n}``.

``decode`` raises ``BadMessage`` with the WebSocket close code to use: 1003 for text
that is not a JSON object of a known shape. Size limits are the transport's (1009).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from .._core.netjson import JSONError, loads
from ._errors import BadMessage

__all__ = [
    "CALL_ANSWERS",
    "OPERATIONS",
    "PAGE_MESSAGES",
    "BadMessage",
    "Call",
    "Event",
    "Operation",
    "Reply",
    "decode",
    "encode",
    "operation",
]


class Operation(NamedTuple):
    """A request the server sends the page: its fields besides ``id`` and ``op``, and
    what the page's ``reply`` carries."""

    fields: tuple[str, ...]
    answer: str


OPERATIONS: Final[Mapping[str, Operation]] = {
    "alert": Operation(("text",), "null, once the alert is dismissed"),
    "get": Operation(("selector", "prop"), "document.querySelector(selector)[prop]"),
    "set": Operation(("selector", "prop", "value"), "null"),
    "on": Operation(("selector", "event", "handler"), "null; then event messages"),
    "callback": Operation(("callback", "args"), "what the JS function returned"),
    "ready": Operation((), "null"),
}
PAGE_MESSAGES: Final = ("reply", "error", "call", "event")  # page to server: ``decode``
CALL_ANSWERS: Final = ("result", "fail")  # the server's answers to a page's ``call``


def operation(op: str, **fields: Any) -> dict[str, Any]:
    """A request of the table (``id`` is added when it is sent); ``ValueError`` for
    an unknown op or fields other than its own."""
    known = OPERATIONS.get(op)
    if known is None:
        raise ValueError(f"the page has no operation {op!r}")
    if set(fields) != set(known.fields):
        raise ValueError(f"{op} takes {', '.join(known.fields) or 'no fields'}")
    return {"op": op, **fields}


@dataclass(frozen=True)
class Reply:
    """The page's answer to the server's request ``id``: a value, or an error text."""

    id: int
    value: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Call:
    """The page calls a registered function: ``await geetrio.call(name, ...args)``."""

    id: int
    name: str
    args: list[Any]


@dataclass(frozen=True)
class Event:
    """A DOM event for the handler the server subscribed with ``on``."""

    handler: int
    event: dict[str, Any]


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadMessage(f"{what} must be a non-negative integer")
    return value


def decode(text: str | bytes) -> Reply | Call | Event:
    """One message from the page; ``BadMessage`` when it is not one."""
    if isinstance(text, bytes):
        raise BadMessage("binary messages are not part of the protocol")
    try:
        message = loads(text)
    except JSONError as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise BadMessage("a message is a JSON object")
    op = message.get("op")
    if op == "reply":
        return Reply(_int(message.get("id"), "id"), message.get("value"))
    if op == "error":
        text_ = message.get("message")
        if not isinstance(text_, str):
            raise BadMessage("an error needs a message string")
        return Reply(_int(message.get("id"), "id"), None, text_)
    if op == "call":
        name, args = message.get("name"), message.get("args", [])
        if not isinstance(name, str) or not name:
            raise BadMessage("a call needs a function name")
        if not isinstance(args, list):
            raise BadMessage("a call's args are a list")
        return Call(_int(message.get("id"), "id"), name, args)
    if op == "event":
        event = message.get("event", {})
        if not isinstance(event, dict):
            raise BadMessage("an event's details are an object")
        return Event(_int(message.get("handler"), "handler"), event)
    raise BadMessage(f"unknown op {op!r}")
