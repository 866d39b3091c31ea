"""``?`` to ``%s`` for PostgreSQL: only in code, never inside literals, quoted
identifiers or comments; every other ``%`` doubled."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geetrio.orm._placeholders import to_pyformat


@pytest.mark.parametrize(
    ("sql", "expected", "count"),
    [
        ("age > ?", "age > %s", 1),
        ("a = ? AND b = ?", "a = %s AND b = %s", 2),
        ("name LIKE 'a%' AND x = ?", "name LIKE 'a%%' AND x = %s", 1),
        ("note = 'why?' AND x = ?", "note = 'why?' AND x = %s", 1),
        ("note = 'it''s?' AND x = ?", "note = 'it''s?' AND x = %s", 1),
        ('"odd?col" = ?', '"odd?col" = %s', 1),
        ('"a""?b" = ?', '"a""?b" = %s', 1),
        ("x = E'\\'?' AND y = ?", "x = E'\\'?' AND y = %s", 1),
        ("x = $$ ? $$ AND y = ?", "x = $$ ? $$ AND y = %s", 1),
        ("x = $t$ it's ? $t$ AND y = ?", "x = $t$ it's ? $t$ AND y = %s", 1),
        ("x = ? -- why?\nAND y = ?", "x = %s -- why?\nAND y = %s", 2),
        (
            "x = ? /* a /* nested? */ b? */ AND y = ?",
            "x = %s /* a /* nested? */ b? */ AND y = %s",
            2,
        ),
        ("x % 2 = ?", "x %% 2 = %s", 1),
        ("price = $1", "price = $1", 0),
        ("we're = ?", None, 0),
    ],
)
def test_placeholders(sql: str, expected: str | None, count: int) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="unterminated"):
            to_pyformat(sql)
    else:
        assert to_pyformat(sql) == (expected, count)


@given(st.text(alphabet="ab ?%'\"-/*$\\\nE", max_size=40))
def test_any_text_translates_or_is_refused(sql: str) -> None:
    try:
        out, count = to_pyformat(sql)
    except ValueError as exc:
        assert "unterminated" in str(exc)
        return
    assert out.count("%s") >= count and count <= sql.count("?")
    assert out.replace("%s", "").replace("%%", "").count("%") == 0  # every % is paired
