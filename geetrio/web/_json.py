"""Compact UTF-8 JSON for responses, with the C encoder built once."""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any

__all__ = ["dump_json"]


def _not_serializable(obj: object) -> Any:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _json_encoder() -> Callable[[object], str]:
    """Compact UTF-8 JSON, NaN refused. ``JSONEncoder.encode`` builds a new C encoder
    on every call (half of its cost for a small object); build it once instead."""
    make = getattr(json.encoder, "c_make_encoder", None)  # private, so looked up with care
    if make is None:  # no C accelerator (other interpreters)
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    encode = make(
        None, _not_serializable, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
    return lambda obj: "".join(encode(obj, 0))


dump_json = _json_encoder()
