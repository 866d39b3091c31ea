"""JSON read off the network, with one error for everything a hostile document raises.

``json.loads`` refuses bad input with ``JSONDecodeError`` — but not only: a document
nested deeper than the interpreter's recursion limit (``[[[[...``, a few KB) raises
``RecursionError``, an integer of more than ``sys.get_int_max_str_digits()`` digits a
plain ``ValueError``, and bytes that are not UTF-8 ``UnicodeDecodeError``. Each
boundary that parses JSON from a peer (RPC options, headers and bodies; bridge
messages) goes through ``loads`` and catches ``JSONError`` alone.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["JSONError", "loads"]

_decoder = json.JSONDecoder()


class JSONError(ValueError):
    """Not a JSON document we accept; the text says why."""


def loads(data: str | bytes | bytearray) -> Any:
    try:
        text = data if isinstance(data, str) else bytes(data).decode()
        return _decoder.decode(text)
    except RecursionError:
        raise JSONError("nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise JSONError(str(exc)) from None
