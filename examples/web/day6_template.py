"""Day 6 — templates (Jinja2, autoescaped) and static files.

python examples/web/day6_template.py
open http://127.0.0.1:9999/students and http://127.0.0.1:9999/date
"""

from __future__ import annotations

import datetime
from pathlib import Path

from _common import run

from geetrio.web import Context, Engine, logger

HERE = Path(__file__).parent


def format_as_date(t: datetime.date) -> str:
    return f"{t.year}-{t.month:02d}-{t.day:02d}"


app = Engine()
app.use(logger())
app.set_func_map({"format_as_date": format_as_date})
app.load_html_glob(str(HERE / "templates" / "*"))
app.static("/assets", HERE / "static")

STUDENTS = [{"name": "Geektutu", "age": 20}, {"name": "Jack", "age": 22}]


@app.get("/")
async def index(c: Context) -> None:
    c.html(200, "css.tmpl", {})


@app.get("/students")
async def students(c: Context) -> None:
    c.html(200, "arr.tmpl", {"title": "gee", "stu_arr": STUDENTS})


@app.get("/date")
async def date(c: Context) -> None:
    c.html(200, "custom_func.tmpl", {"title": "gee", "now": datetime.date(2019, 8, 17)})


if __name__ == "__main__":
    run(app, "Gee day 6: templates and static files")
