"""Standard SQL quoting (sqlite and PostgreSQL both use it; a dialect that differs,
MySQL's backquotes say, overrides ``Dialect.quote_identifier``). A leaf module."""

from __future__ import annotations

__all__ = ["quote_identifier", "quote_literal"]


def quote_identifier(name: str) -> str:
    """``"name"`` with inner quotes doubled; refuses what no database accepts."""
    if not isinstance(name, str) or not name:
        raise ValueError("an identifier must be a non-empty string")
    if "\x00" in name:
        raise ValueError(f"an identifier cannot contain NUL: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``'text'`` with inner quotes doubled (a standard SQL string literal)."""
    if "\x00" in text:
        raise ValueError(f"a string literal cannot contain NUL: {text!r}")
    return "'" + text.replace("'", "''") + "'"
