"""Relations on both dialects: foreign keys created with their ON DELETE action and
enforced; has_many and belongs_to loaded by ``preload`` (nested too) in exactly one
statement per relation level and batch of keys — counted with ``orm.count_queries`` for
1, 100 and 1,000 parents; wrong declarations and names refused before any SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from geetrio import orm
from geetrio.orm._preload import PRELOAD_BATCH


@dataclass
class Author:
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    posts: list[Post] = orm.has_many("author")


@dataclass
class Post:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    author: str | None = orm.foreign_key("Author", on_delete="CASCADE", default=None)
    title: str = ""
    writer: Author | None = orm.belongs_to("author")
    comments: list[Comment] = orm.has_many("post_id")


@dataclass
class Comment:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    post_id: int | None = orm.foreign_key(Post, on_delete="SET NULL", default=None)
    text: str = ""
    post: Post | None = orm.belongs_to("post_id")


@dataclass
class Loose:  # no primary key
    value: int = 0


@dataclass
class PointsAtLoose:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    loose: int = orm.foreign_key(Loose, default=0)


async def blog(engine: orm.Engine, authors: int, posts_each: int) -> orm.Session:
    s = engine.new_session()
    for model in (Author, Post, Comment):
        await s.model(model).create_table()
    await s.insert(*(Author(f"a{i:04d}") for i in range(authors)))
    posts = [
        Post(i * posts_each + j + 1, f"a{i:04d}", f"post {j}")
        for i in range(authors)
        for j in range(posts_each)
    ]
    if posts:
        await s.insert(*posts)
        await s.insert(
            *(Comment(p.id * 10 + k, p.id, f"c{k}") for p in posts[:50] for k in range(2))
        )
    return s


async def test_foreign_keys_are_created_and_enforced(engine: orm.Engine) -> None:
    s = await blog(engine, 2, 2)
    with pytest.raises(orm.IntegrityError):
        await s.insert(Post(99, "nobody", "orphan"))  # a child of a missing parent
    await s.model(Author).where("name = ?", "a0000").delete()  # CASCADE: its posts go
    assert await s.model(Post).pluck("author") == ["a0001", "a0001"]
    # ...and their comments' post_id is SET NULL
    orphans = await s.model(Comment).where("post_id IS NULL").count()
    assert orphans == 4  # two posts of a0000, two comments each
    assert await s.model(Comment).count() == 8


@pytest.mark.parametrize("authors", [1, 100, 1000, 2500])  # 2,500: three batches
async def test_preload_issues_one_statement_per_level_and_batch(
    engine: orm.Engine, authors: int
) -> None:
    s = await blog(engine, authors, 2)
    with orm.count_queries() as counted:
        found = await s.model(Author).order_by("name").preload("posts").find()
    batches = -(-authors // PRELOAD_BATCH)
    assert counted.count == 1 + batches
    assert [len(a.posts) for a in found] == [2] * authors
    assert [p.title for p in found[-1].posts] == ["post 0", "post 1"]
    assert all(p.author == a.name for a in found for p in a.posts)
    if authors <= 100:  # the same without preload: the N+1 this saves
        with orm.count_queries() as naive:
            for author in await s.model(Author).find():
                await s.model(Post).where("author = ?", author.name).find()
        assert naive.count == 1 + authors


async def test_nested_and_belongs_to_preloads(engine: orm.Engine) -> None:
    s = await blog(engine, 3, 2)
    with orm.count_queries() as counted:
        authors = await s.model(Author).order_by("name").preload("posts.comments").find()
    assert counted.count == 3  # authors, posts, comments
    first_post = authors[0].posts[0]
    assert [c.text for c in first_post.comments] == ["c0", "c1"]
    assert all(c.post_id == first_post.id for c in first_post.comments)
    with orm.count_queries() as counted:
        comments = await s.model(Comment).order_by("id").preload("post.writer").find()
    assert counted.count == 3
    assert comments[0].post is not None and comments[0].post.writer is not None
    assert comments[0].post.writer.name == "a0000"
    # preload("posts") twice and a nested path share the level: still 3 statements
    with orm.count_queries() as counted:
        await s.model(Author).preload("posts").preload("posts.comments").preload("posts").find()
    assert counted.count == 3
    one = await s.model(Post).where("id = ?", 1).preload("writer").first()
    assert one.writer == Author("a0000")
    await s.insert(Author("quiet"), Author("silent"))
    await s.insert(Post(999, "quiet", "no comments yet"))
    quiet, silent = (
        await s.model(Author)
        .where("name IN (?)", ["quiet", "silent"])
        .order_by("name")
        .preload("posts.comments")
        .find()
    )
    assert [p.comments for p in quiet.posts] == [[]] and silent.posts == []  # loaded, empty


async def test_no_parents_no_extra_statement(engine: orm.Engine) -> None:
    s = await blog(engine, 0, 0)
    with orm.count_queries() as counted:
        assert await s.model(Author).preload("posts.comments").find() == []
    assert counted.count == 1


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("poems", "Author has no relation 'poems' to preload (relations: posts)"),
        ("posts.likes", "Author.posts has no relation 'likes'"),
        ("name", "Author has no relation 'name'"),
    ],
)
async def test_a_preload_of_no_relation_is_refused_before_any_sql(
    engine: orm.Engine, path: str, message: str
) -> None:
    s = await blog(engine, 1, 1)
    with orm.count_queries() as counted, pytest.raises(orm.ORMError, match=re.escape(message)):
        await s.model(Author).preload(path).find()
    assert counted.count == 0
    with pytest.raises(ValueError, match="relation name"):
        s.model(Author).preload("posts..comments")


async def test_declarations_that_cannot_work_are_refused(engine: orm.Engine) -> None:
    s = engine.new_session()
    with orm.count_queries() as counted, pytest.raises(orm.ORMError, match="no primary key"):
        await s.model(PointsAtLoose).create_table()
    assert counted.count == 0
    with pytest.raises(ValueError, match="on_delete must be one of"):
        orm.foreign_key(Author, on_delete="EXPLODE; DROP TABLE Author")

    @dataclass
    class Bad:
        id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
        things: dict[str, int] = orm.has_many("id")

    with pytest.raises(orm.ORMError, match="annotated list"):
        await s.model(Bad).create_table()

    @dataclass
    class Dangling:
        id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
        ghost: int = orm.foreign_key("NoSuchModel", default=0)

    with pytest.raises(orm.ORMError, match="NoSuchModel"):
        await s.model(Dangling).create_table()


@dataclass
class Stray:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    owner: Author | None = orm.belongs_to("no_such_column")
    others: list[Post] = orm.has_many("no_such_column")


@pytest.mark.parametrize("relation", ["owner", "others"])
async def test_a_relation_keyed_on_a_missing_column_is_refused_before_any_sql(
    engine: orm.Engine, relation: str
) -> None:
    s = await blog(engine, 1, 1)
    await s.model(Stray).create_table()
    with orm.count_queries() as counted, pytest.raises(orm.ORMError, match="no_such_column"):
        await s.model(Stray).preload(relation).find()
    assert counted.count == 0
