"""Structured logs (issue 20): ``JSONFormatter`` writes each record as one JSON object
per line — time (UTC, ISO 8601), level, logger, message, the exception when there is
one — with the request id of the request being served (``web.request_id()`` sets it)
and the trace and span ids of the current OpenTelemetry span, when there are. Every
program of ``servers/`` takes ``--log-format json``.

>>> import logging
>>> handler = logging.StreamHandler()
>>> handler.setFormatter(JSONFormatter())
>>> logging.basicConfig(level=logging.INFO, handlers=[handler])
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime

from . import tracing

__all__ = ["REQUEST_ID", "JSONFormatter"]

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("geetrio_request_id", default="")
"""The id of the request the current task serves ("" outside one)."""


class JSONFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        ids = tracing.current_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        # ASCII only: U+2028, U+2029 and U+0085 would otherwise split the line for
        # readers that honour Unicode line breaks (Python's ``splitlines`` among them).
        return json.dumps(entry, default=str)
