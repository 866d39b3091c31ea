"""``?`` placeholders to psycopg's ``%s`` (sans-IO).

The ORM's SQL, and the ``where()``/``order_by()``/``raw()`` text users write, marks
values with ``?``. PostgreSQL through psycopg wants ``%s``, and then every other ``%``
must be doubled (psycopg reads the whole text for placeholders). A ``?`` is a
placeholder only in code: inside a string literal (``'...'``, ``E'...'`` with
backslash escapes, ``$tag$...$tag$``), a quoted identifier (``"..."``) or a comment
(``--`` to the end of the line, ``/* ... */``, nested) it stays a question mark.

A consequence: PostgreSQL's ``?``-operators on ``jsonb`` (``?``, ``?|``, ``?&``) cannot
be written in ORM SQL; use ``jsonb_exists(col, key)`` and friends.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["expand_lists", "to_pyformat"]

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)?\$")
_CACHE_SIZE = 512
_cache: dict[str, tuple[str, int]] = {}


def to_pyformat(sql: str) -> tuple[str, int]:
    """``sql`` with its ``?`` placeholders as ``%s`` and other ``%`` doubled, and the
    number of placeholders found. ``ValueError`` for an unterminated literal,
    identifier or comment (the text would mean something else than it seems)."""
    cached = _cache.get(sql)
    if cached is not None:
        return cached
    result = _translate(sql)[:2]
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[sql] = result
    return result


def expand_lists(condition: str, args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """A list (or tuple, set) bound to one ``?`` becomes as many ``?`` as it has items,
    its items the parameters (``"id IN (?)", [1, 2]`` -> ``"id IN (?, ?)", (1, 2)``); an
    empty one becomes ``NULL`` (``IN (NULL)`` matches nothing). Other values stay."""
    if not any(isinstance(a, list | tuple | set | frozenset) for a in args):
        return condition, args
    positions = _translate(condition)[2]
    if len(positions) != len(args):
        raise ValueError(f"{condition!r} has {len(positions)} '?' but {len(args)} values")
    pieces: list[str] = []
    values: list[Any] = []
    start = 0
    for at, arg in zip(positions, args, strict=True):
        pieces.append(condition[start:at])
        if isinstance(arg, list | tuple | set | frozenset):
            items = list(arg)
            pieces.append(", ".join("?" for _ in items) if items else "NULL")
            values.extend(items)
        else:
            pieces.append("?")
            values.append(arg)
        start = at + 1
    pieces.append(condition[start:])
    return "".join(pieces), tuple(values)


def _translate(sql: str) -> tuple[str, int, list[int]]:
    out: list[str] = []
    count = 0
    positions: list[int] = []  # where each placeholder is in ``sql``
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "?":
            out.append("%s")
            count += 1
            positions.append(i)
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        elif ch == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _word(sql[i - 2]))
            end = _end_of_quoted(sql, i, "'", backslash=escapes)
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == '"':
            end = _end_of_quoted(sql, i, '"', backslash=False)
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end + 1
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "/" and sql.startswith("/*", i):
            end = _end_of_block_comment(sql, i)
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "$" and (i == 0 or not _word(sql[i - 1])):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is None:  # $1-style parameter or an operator: code
                out.append(ch)
                i += 1
                continue
            close = sql.find(tag.group(), tag.end())
            if close < 0:
                raise ValueError(f"unterminated dollar-quoted string in {sql!r}")
            end = close + len(tag.group())
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        else:
            out.append(ch)
            i += 1
    return "".join(out), count, positions


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _end_of_quoted(sql: str, start: int, quote: str, *, backslash: bool) -> int:
    """The index after the literal or identifier opening at ``start``."""
    i = start + 1
    while i < len(sql):
        ch = sql[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < len(sql) and sql[i + 1] == quote:  # a doubled quote: still inside
                i += 2
                continue
            return i + 1
        i += 1
    kind = "identifier" if quote == '"' else "string literal"
    raise ValueError(f"unterminated quoted {kind} in {sql!r}")


def _end_of_block_comment(sql: str, start: int) -> int:
    depth, i = 0, start
    while i < len(sql):
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise ValueError(f"unterminated comment in {sql!r}")
