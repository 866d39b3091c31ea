"""Day 2 — object to table: the schema read from a dataclass, and the dialect's types.

python examples/orm/day2_reflect_schema.py
"""

import datetime
from dataclasses import dataclass, field

from geetrio.orm import SQLiteDialect, UnsupportedType
from geetrio.orm.clause import create_table
from geetrio.orm.schema import parse


@dataclass
class Employee:
    __tablename__ = "employees"
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    name: str = ""
    active: bool = True
    salary: float = 0.0
    hired: datetime.datetime = datetime.datetime(2020, 1, 1)
    manager: int | None = None


@dataclass
class Broken:
    tags: list[str] = field(default_factory=list)


def main() -> None:
    schema = parse(Employee, SQLiteDialect())
    print(f"table {schema.table}: " + ", ".join(f"{f.name} {f.sql_type}" for f in schema.fields))
    print(create_table(schema))
    try:
        parse(Broken, SQLiteDialect())
    except UnsupportedType as exc:
        print(f"UnsupportedType: {exc}")


if __name__ == "__main__":
    main()
