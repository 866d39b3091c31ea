"""Binding (``await c.bind(Model)``, ``c.bind_query(Model)``) and ``web.HTTPException``:
JSON and form bodies and query strings into dataclasses — nested, lists, optionals,
``__post_init__`` validation — and every bad field named in a 400, never a 500."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from geetrio.http import ServerConfig
from geetrio.web import BindError, Context, Engine, HTTPException, TestClient, default


@dataclass
class Address:
    street: str
    city: str


@dataclass
class Item:
    sku: str
    qty: int
    price: float = 0.0


@dataclass
class Order:
    customer: str
    address: Address
    items: list[Item]
    note: str | None = None
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("an order needs at least one item")


@dataclass
class Search:
    q: str
    page: int = 1
    exact: bool = False
    ids: list[int] = field(default_factory=list)
    ratio: float | None = None
    near: Address | None = None


def app() -> Engine:
    engine = default()

    @engine.post("/orders")
    async def create(c: Context) -> None:
        order = await c.bind(Order)
        total = sum(item.qty * item.price for item in order.items)
        c.json(201, {"customer": order.customer, "city": order.address.city, "total": total})

    @engine.get("/search")
    async def search(c: Context) -> None:
        found = c.bind_query(Search)
        c.json(
            200,
            {
                "q": found.q,
                "page": found.page,
                "exact": found.exact,
                "ids": found.ids,
                "ratio": found.ratio,
                "near": found.near and found.near.city,
            },
        )

    @engine.post("/lenient")
    async def lenient(c: Context) -> None:
        try:
            item = await c.bind(Item)
        except BindError as exc:
            c.json(200, {"fallback": True, "paths": [e["path"] for e in exc.errors]})
            return
        c.json(200, {"sku": item.sku})

    @engine.get("/users/:id")
    async def user(c: Context) -> None:
        c.set_header("X-Seen", "yes")
        raise HTTPException(404, "no such user", id=c.param("id"))

    return engine


ORDER: dict[str, Any] = {
    "customer": "Ada",
    "address": {"street": "12 St James's Square", "city": "London"},
    "items": [{"sku": "a", "qty": 2, "price": 1.5}, {"sku": "b", "qty": 1}],
    "extra": "ignored",
}


async def test_a_json_body_binds_into_nested_dataclasses() -> None:
    async with TestClient(app()) as client:
        response = await client.post("/orders", json=ORDER)
        assert response.status == 201
        assert response.json() == {"customer": "Ada", "city": "London", "total": 3.0}


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({**ORDER, "customer": 5}, ["customer"]),
        (
            {**ORDER, "items": [{"sku": "a", "qty": "2"}, {"sku": 1, "qty": 1}]},
            ["items[0].qty", "items[1].sku"],
        ),
        ({"address": {"street": "x"}, "items": "none"}, ["customer", "address.city", "items"]),
        ({**ORDER, "items": []}, [""]),  # __post_init__ refused it
        ({**ORDER, "address": None}, ["address"]),
        ({**ORDER, "items": [{"sku": "a", "qty": True}]}, ["items[0].qty"]),
        ([1, 2], [""]),
    ],
)
async def test_a_body_that_does_not_fit_answers_400_naming_every_bad_field(
    body: Any, paths: list[str]
) -> None:
    async with TestClient(app()) as client:
        response = await client.post("/orders", json=body)
        assert response.status == 400
        answer = response.json()
        assert answer["message"] == "invalid request"
        assert [e["path"] for e in answer["errors"]] == paths
        assert all(e["message"] for e in answer["errors"])


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b'{"customer": "a"} trailing', b"[" * 100_000, b"\xff\xfe", b'{"customer": NaN}'],
)
async def test_malformed_json_answers_400_and_the_server_goes_on(body: bytes) -> None:
    async with TestClient(app()) as client:
        response = await client.post(
            "/orders", body=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == 400
        [error] = response.json()["errors"]
        assert error["message"].startswith("not valid JSON")
        assert (await client.post("/orders", json=ORDER)).status == 201


async def test_a_million_bad_items_are_reported_twenty_at_a_time() -> None:
    body = {**ORDER, "items": [{"sku": 1, "qty": 1}] * 100_000}
    async with TestClient(app()) as client:
        response = await client.post("/orders", json=body)
        assert response.status == 400
        assert len(response.json()["errors"]) == 20


async def test_a_form_body_binds_like_json() -> None:
    async with TestClient(app()) as client:
        response = await client.post(
            "/lenient",
            body=b"sku=abc&qty=3",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.json() == {"sku": "abc"}
        response = await client.post(
            "/lenient",
            body=b"qty=three",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.json() == {"fallback": True, "paths": ["sku", "qty"]}


async def test_a_form_of_too_many_fields_answers_400() -> None:
    async with TestClient(app()) as client:
        response = await client.post(
            "/lenient",
            body=b"a&" * 1001,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status == 400
        assert response.json()["message"] == "more than 1000 fields in the form"


async def test_an_unknown_content_type_answers_415() -> None:
    async with TestClient(app()) as client:
        response = await client.post(
            "/orders", body=b"<order/>", headers={"Content-Type": "application/xml"}
        )
        assert response.status == 415
        assert "application/xml" in response.json()["message"]
        response = await client.post("/orders", body=b"x")
        assert response.status == 415


async def test_a_query_string_binds_with_types_lists_and_nesting() -> None:
    async with TestClient(app()) as client:
        response = await client.get(
            "/search?q=tea&page=3&exact=on&ids=1&ids[]=2&ratio=0.5&near.street=s&near.city=Oslo"
        )
        assert response.json() == {
            "q": "tea",
            "page": 3,
            "exact": True,
            "ids": [1, 2],
            "ratio": 0.5,
            "near": "Oslo",
        }
        response = await client.get("/search?q=&page=&ratio=")  # empty means absent
        assert response.json() == {
            "q": "",
            "page": 1,
            "exact": False,
            "ids": [],
            "ratio": None,
            "near": None,
        }


@pytest.mark.parametrize(
    ("query", "paths"),
    [
        ("", ["q"]),
        ("q=a&page=two", ["page"]),
        ("q=a&page=1_000&ratio=nan&exact=maybe", ["page", "exact", "ratio"]),
        ("q=a&ids=1&ids=x&ids=3&ids=%20", ["ids[1]", "ids[3]"]),
        ("q=a&page=" + "9" * 5000, ["page"]),
        ("q=a&near.street=s", ["near.city"]),
    ],
)
async def test_a_query_that_does_not_fit_answers_400(query: str, paths: list[str]) -> None:
    async with TestClient(app()) as client:
        response = await client.get("/search?" + query)
        assert response.status == 400
        assert [e["path"] for e in response.json()["errors"]] == paths


async def test_http_error_answers_json_and_middleware_sees_an_answer() -> None:
    seen: list[int] = []
    engine = app()

    async def watch(c: Context) -> None:
        await c.next()
        seen.append(c.status_code)

    engine.use(watch)
    async with TestClient(engine) as client:
        response = await client.get("/users/7")
        assert response.status == 404
        assert response.json() == {"message": "no such user", "id": "7"}
        assert response.headers.get("x-seen") == "yes"
    assert seen == [404]


def test_http_error_refuses_a_status_that_is_not_an_error() -> None:
    with pytest.raises(ValueError, match="4xx or 5xx"):
        HTTPException(200)


@dataclass
class Node:
    name: str
    child: Node | None = None


@pytest.mark.parametrize("depth", [5, 2_000])
async def test_a_self_referential_model_meets_hostile_depth(depth: int) -> None:
    engine = Engine()

    @engine.post("/tree")
    async def tree(c: Context) -> None:
        node, levels = await c.bind(Node), 0
        while node.child is not None:
            node, levels = node.child, levels + 1
        c.json(200, {"levels": levels})

    @engine.get("/tree")
    async def tree_query(c: Context) -> None:
        c.json(200, {"name": c.bind_query(Node).name})

    body = "1"  # a bad leaf: the general path walks the whole depth to name it
    for _ in range(depth):
        body = f'{{"name": "n", "child": {body}}}'
    good = body.replace("1", "null")
    levels = min(depth, 40)  # past 32 levels a query string is refused (MAX_STRING_DEPTH)
    deep_query = "&".join(["name=root"] + ["child." * i + "name=x" for i in range(1, levels)])
    json_type = {"Content-Type": "application/json"}
    async with TestClient(engine, config=ServerConfig(max_uri_bytes=65536)) as client:
        bad_answer = await client.post("/tree", body=body.encode(), headers=json_type)
        good_answer = await client.post("/tree", body=good.encode(), headers=json_type)
        query_answer = await client.get("/tree?" + deep_query)
    assert bad_answer.status == 400
    if depth < 100:
        assert bad_answer.json()["errors"][0]["path"] == "child." * (depth - 1) + "child"
        assert good_answer.json() == {"levels": depth - 1}
        assert query_answer.json() == {"name": "root"}
    else:  # deeper than the interpreter recurses: refused, never a 500
        for answer in (bad_answer, good_answer):
            assert answer.status == 400
            assert answer.json()["errors"] == [{"path": "", "message": "nested too deeply"}]
        assert query_answer.status == 400
        [error] = query_answer.json()["errors"]
        assert error["path"] == ".".join(["child"] * 33)
        assert error["message"] == "nested too deeply"
