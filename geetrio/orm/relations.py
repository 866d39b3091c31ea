"""Relations between models, declared on their dataclass fields (gorm's conventions):

>>> @dataclass
... class Post:
...     id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
...     user_name: str = orm.foreign_key("User", on_delete="CASCADE", default="")
...     user: User | None = orm.belongs_to("user_name")       # not a column
>>> @dataclass
... class User:
...     name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
...     posts: list[Post] = orm.has_many("user_name")         # not a column

``foreign_key`` makes the column a ``REFERENCES`` (the target's primary key unless
``column=`` says otherwise) with its ``ON DELETE`` action; ``has_many`` and
``belongs_to`` fields hold what ``Query.preload`` loads (their model comes from the
annotation: ``list[Post]``, ``User | None``). A model is a class or, for one defined
later, its name in the same module. Leaf module (no I/O).
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from dataclasses import dataclass
from typing import Any

from ._errors import ORMError

__all__ = ["ON_DELETE", "ROLES", "Reference", "Relation", "belongs_to", "created_at"]
__all__ += ["deleted_at", "foreign_key", "has_many", "role_of", "updated_at"]

ON_DELETE = ("NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT")
_REFERENCE = "geeorm_references"
_RELATION = "geeorm_relation"
_ROLE = "geeorm_role"
ROLES = ("created_at", "updated_at", "deleted_at")


@dataclass(frozen=True)
class Reference:
    """A foreign key: the model it points at (or its name), the column there (None:
    its primary key) and the ``ON DELETE`` action."""

    model: type | str
    column: str | None
    on_delete: str

    def target(self, owner: type) -> type:
        return resolve(self.model, owner)


@dataclass(frozen=True)
class Relation:
    """A relation field: ``has_many`` or ``belongs_to``, through ``foreign_key`` (a
    column of the child model)."""

    kind: str
    foreign_key: str


def foreign_key(
    model: type | str,
    *,
    column: str | None = None,
    on_delete: str = "NO ACTION",
    tag: str = "",
    **field_options: Any,
) -> Any:
    """A column that references ``model`` (its primary key, or ``column``), deleted
    rows acting as ``on_delete`` says (``CASCADE``, ``SET NULL``, ``SET DEFAULT``,
    ``RESTRICT``, ``NO ACTION``); ``tag`` adds column extras (``"NOT NULL"``);
    ``field_options`` go to ``dataclasses.field`` (``default=``)."""
    action = on_delete.upper()
    if action not in ON_DELETE:
        raise ValueError(f"on_delete must be one of {', '.join(ON_DELETE)}, not {on_delete!r}")
    metadata = {"geeorm": tag, _REFERENCE: Reference(model, column, action)}
    return dataclasses.field(metadata=metadata, **field_options)


def has_many(foreign_key: str) -> Any:
    """A field holding the child rows whose ``foreign_key`` column points at this row
    (annotate it ``list[Child]``); filled by ``preload``, else empty. Not a column."""
    return dataclasses.field(
        default_factory=list, compare=False, metadata={_RELATION: Relation("has_many", foreign_key)}
    )


def belongs_to(foreign_key: str) -> Any:
    """A field holding the row this row's ``foreign_key`` column points at (annotate
    it ``Parent | None``); filled by ``preload``, else None. Not a column."""
    return dataclasses.field(
        default=None, compare=False, metadata={_RELATION: Relation("belongs_to", foreign_key)}
    )


def reference_of(f: dataclasses.Field[Any]) -> Reference | None:
    found = f.metadata.get(_REFERENCE)
    return found if isinstance(found, Reference) else None


def relation_of(f: dataclasses.Field[Any]) -> Relation | None:
    found = f.metadata.get(_RELATION)
    return found if isinstance(found, Relation) else None


def related_model(owner: type, name: str, annotation: Any, relation: Relation) -> type:
    """The model a relation field holds: ``list[X]`` for has_many, ``X | None`` (or
    ``X``) for belongs_to."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if relation.kind == "has_many":
        if typing.get_origin(annotation) is not list or len(args) != 1:
            raise ORMError(f"{owner.__name__}.{name}: a has_many field is annotated list[Model]")
        target = args[0]
    else:
        target = args[0] if len(args) == 1 else annotation
    if not (isinstance(target, type) and dataclasses.is_dataclass(target)):
        raise ORMError(f"{owner.__name__}.{name}: {target!r} is not a model (a dataclass)")
    return target


def resolve(model: type | str, owner: type) -> type:
    """``model`` itself, or the class of that name in ``owner``'s module."""
    if isinstance(model, type):
        return model
    found = getattr(sys.modules.get(owner.__module__), model, None)
    if not isinstance(found, type):
        raise ORMError(
            f"{owner.__name__} references {model!r}, which is no class in {owner.__module__}"
        )
    return found


# ------------------------------------------------------------ gorm's timestamp columns


def created_at() -> Any:
    """A ``datetime | None`` column set to the current UTC time when a row is inserted
    without one (gorm's ``CreatedAt``)."""
    return dataclasses.field(default=None, metadata={_ROLE: "created_at"})


def updated_at() -> Any:
    """A ``datetime | None`` column set to the current UTC time on insert and on every
    ``update`` that does not set it (gorm's ``UpdatedAt``)."""
    return dataclasses.field(default=None, metadata={_ROLE: "updated_at"})


def deleted_at() -> Any:
    """Soft delete (gorm's ``DeletedAt``): ``delete()`` sets this column instead of
    removing rows, and queries skip rows where it is set — unless ``with_deleted()``;
    ``hard_delete()`` removes them."""
    return dataclasses.field(default=None, metadata={_ROLE: "deleted_at"})


def role_of(f: dataclasses.Field[Any]) -> str:
    found = f.metadata.get(_ROLE, "")
    return found if isinstance(found, str) else ""
