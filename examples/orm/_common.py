"""Shared bits of the ORM day examples: a fresh database file in a temporary folder."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path


def fresh_db(name: str = "gee.db") -> Path:
    return Path(tempfile.mkdtemp(prefix="geeorm-")) / name


@dataclass
class User:
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = 0
