"""Eager loading (``Query.preload("posts")``, ``preload("posts.comments")``): after the
query's own statement, one statement per relation level — ``SELECT ... WHERE fk IN
(?, ...)`` with at most ``PRELOAD_BATCH`` keys each — never one per row (the N+1
problem). Every name is checked before the first statement is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._errors import ORMError
from ._hooks import call_hook
from ._jobs import _fetchall
from ._mapper import Mapper
from .schema import Field, Schema

__all__ = ["PRELOAD_BATCH", "Step", "load", "plan"]

PRELOAD_BATCH = 1000  # keys per IN (...): well under sqlite's and PostgreSQL's limits


@dataclass(frozen=True)
class Step:
    """Load relation ``name`` of the objects at hand: children whose ``child_key``
    column equals the parent's ``parent_key`` field; then ``then`` on what came."""

    name: str
    kind: str  # has_many | belongs_to
    mapper: Mapper  # of the related model
    parent_key: str  # field of the objects at hand
    child_key: Field  # column of the related model (has_many) or of its key (belongs_to)
    then: tuple[Step, ...]


def plan(engine: Any, schema: Schema, paths: Sequence[str]) -> tuple[Step, ...]:
    """The loading steps for dotted ``paths`` from ``schema``'s model; ``ORMError``
    naming a relation that does not exist or a key that cannot be found."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for name in path.split("."):
            node = node.setdefault(name, {})
    return _steps(engine, schema, tree, schema.model.__name__)


def _steps(engine: Any, schema: Schema, tree: dict[str, Any], where: str) -> tuple[Step, ...]:
    steps = []
    for name, subtree in tree.items():
        found = schema.relations.get(name)
        if found is None:
            known = ", ".join(schema.relations) or "none"
            raise ORMError(f"{where} has no relation {name!r} to preload (relations: {known})")
        relation, model = found
        mapper: Mapper = engine.mapper(model)
        target = mapper.schema
        if relation.kind == "has_many":
            child_key = _column(target, relation.foreign_key, f"{where}.{name}")
            referenced = _referenced(child_key, schema, f"{where}.{name}")
            parent_key = _column(schema, referenced, f"{where}.{name}").name
        else:
            own = _column(schema, relation.foreign_key, f"{where}.{name}")
            referenced = _referenced(own, target, f"{where}.{name}")
            child_key = _column(target, referenced, f"{where}.{name}")
            parent_key = own.name
        then = _steps(engine, target, subtree, f"{where}.{name}")
        steps.append(Step(name, relation.kind, mapper, parent_key, child_key, then))
    return tuple(steps)


def _column(schema: Schema, name: str, where: str) -> Field:
    found = schema.field(name)
    if found is None:
        raise ORMError(f"{where}: {schema.table} has no column {name!r} (a relation's key)")
    return found


def _referenced(key: Field, other: Schema, where: str) -> str:
    """The field of ``other`` that the foreign key ``key`` points at."""
    if key.references is not None and key.references.column is not None:
        return key.references.column
    primary = other.primary_key
    if primary is None:
        raise ORMError(f"{where}: {other.table} has no primary key for {key.name} to point at")
    return primary.name


async def load(session: Any, objects: Sequence[Any], steps: tuple[Step, ...]) -> None:
    """Fill the relation fields of ``objects`` as ``steps`` say. Cancelled: as every
    statement; the objects may then be partly filled."""
    for step in steps:
        keys = list(
            dict.fromkeys(k for o in objects if (k := getattr(o, step.parent_key)) is not None)
        )
        related = await _fetch_in(session, step.mapper, step.child_key, keys)
        key = step.child_key.name
        if step.kind == "has_many":
            groups: dict[Any, list[Any]] = {}
            for child in related:
                groups.setdefault(getattr(child, key), []).append(child)
            for o in objects:
                setattr(o, step.name, groups.get(getattr(o, step.parent_key), []))
        else:
            by_key = {getattr(parent, key): parent for parent in related}
            for o in objects:
                setattr(o, step.name, by_key.get(getattr(o, step.parent_key)))
        if step.then and related:
            await load(session, related, step.then)


async def _fetch_in(session: Any, mapper: Mapper, column: Field, keys: list[Any]) -> list[Any]:
    schema = mapper.schema
    columns = ", ".join(f.quoted for f in schema.fields)
    primary = schema.primary_key
    order = f" ORDER BY {primary.quoted}" if primary is not None else ""
    scope = f"{mapper.soft_delete[0]} AND " if mapper.soft_delete is not None else ""
    select = f"SELECT {columns} FROM {schema.quoted_table} WHERE {scope}{column.quoted} IN"
    found: list[Any] = []
    for start in range(0, len(keys), PRELOAD_BATCH):
        batch = tuple(mapper.to_db(k) for k in keys[start : start + PRELOAD_BATCH])
        marks = ", ".join("?" for _ in batch)
        sql = f"{select} ({marks}){order}"
        rows = await session.engine.execute(_fetchall(sql, batch), sql, batch)
        found.extend(mapper.from_rows(rows))
    if mapper.hooks["after_query"]:
        for obj in found:
            await call_hook(obj, "after_query", session)
    return found
