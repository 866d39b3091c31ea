"""Indexes and unique constraints declared on a model (leaf module, no I/O):

>>> @dataclass
... class Post:
...     __indexes__ = (orm.index("author", "created"), orm.unique("author", "slug"))
...     ...

``create_table`` creates them; ``migrate`` keeps them in step with the model (adds the
new, drops the ones no longer declared). Their names are derived from the table and the
columns (``geeorm_ix_post_author_created``; hashed when long), so a migration can tell
its own indexes from any made by hand, which it leaves alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["PREFIXES", "Index", "index", "unique"]

PREFIXES = ("geeorm_ix_", "geeorm_ux_")
_MAX_NAME = 60  # PostgreSQL cuts identifiers at 63 bytes


@dataclass(frozen=True)
class Index:
    """An index on ``columns`` (in order); ``unique``: a unique constraint too."""

    columns: tuple[str, ...]
    unique: bool = False

    def name(self, table: str) -> str:
        prefix = PREFIXES[1] if self.unique else PREFIXES[0]
        name = f"{prefix}{table}_{'_'.join(self.columns)}".lower()
        if len(name.encode()) <= _MAX_NAME and name.isascii():
            return name
        key = "\0".join((table, *self.columns))
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{prefix}{digest[:24]}"


def index(*columns: str) -> Index:
    """An index on ``columns`` (for ``__indexes__``)."""
    return Index(_columns(columns))


def unique(*columns: str) -> Index:
    """A unique constraint (a unique index) on ``columns`` (for ``__indexes__``); an
    upsert may name these columns as its conflict target."""
    return Index(_columns(columns), unique=True)


def _columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    if not columns or not all(isinstance(c, str) and c for c in columns):
        raise ValueError(f"an index needs column names, not {columns!r}")
    if len(set(columns)) != len(columns):
        raise ValueError(f"an index names a column twice: {columns!r}")
    return columns
