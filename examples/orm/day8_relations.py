"""Day 8 (beyond the series) — a real data model: users, posts and comments with foreign
keys, eager loading without N+1, a join with GROUP BY, upsert, pages, aggregates,
streaming and soft delete.

python examples/orm/day8_relations.py
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import trio
from _common import fresh_db

from geetrio import orm


@dataclass
class User:
    __indexes__ = (orm.unique("email"),)
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    email: str = ""
    visits: int = 0
    posts: list[Post] = orm.has_many("user_id")


@dataclass
class Post:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    user_id: int = orm.foreign_key(User, on_delete="CASCADE", default=0)
    title: str = ""
    created: datetime.datetime | None = orm.created_at()
    deleted: datetime.datetime | None = orm.deleted_at()
    author: User | None = orm.belongs_to("user_id")
    comments: list[Comment] = orm.has_many("post_id")


@dataclass
class Comment:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    post_id: int = orm.foreign_key(Post, on_delete="CASCADE", default=0)
    text: str = ""


async def main() -> None:
    async with orm.open("sqlite3", fresh_db()) as engine:
        s = engine.new_session()
        for model in (User, Post, Comment):
            await engine.migrate(model)
        await s.insert(User(1, "tom@x"), User(2, "sam@x"), User(3, "ann@x"))
        await s.insert(*(Post(10 * u + p, u, f"post {u}.{p}") for u in (1, 2, 3) for p in (1, 2)))
        await s.insert(Comment(1, 11, "first!"), Comment(2, 11, "nice"), Comment(3, 21, "hm"))

        with orm.count_queries() as counted:
            users = await s.model(User).order_by("id").preload("posts.comments").find()
        posts = [p for u in users for p in u.posts]
        comments = [c for p in posts for c in p.comments]
        print(
            f"preloaded {len(users)} users, {len(posts)} posts, {len(comments)} comments "
            f"in {counted.count} statements"
        )
        first = await s.model(Post).where("id = ?", 11).preload("author").first()
        print(f"post 11 by {first.author.email if first.author else None}")

        added = await s.upsert(User(1, "tom@x", 5), User(4, "eve@x"), conflict="email")
        visits = await s.model(User).where("id = ?", 1).pluck("visits")
        print(f"upserted {added} rows; tom's visits: {visits}")

        page = await s.model(Post).order_by("id").paginate(2, per_page=4)
        print(f"page {page.page}/{page.pages}: {[p.id for p in page.items]}")
        ours = await s.model(Post).where("user_id IN (?)", [1, 2]).count()
        print(f"posts by users 1 and 2: {ours}")

        comments = await (
            s.model(User)
            .join(Post)  # on the foreign key Post.user_id
            .join(Comment)  # on Comment.post_id
            .group_by("email")
            .order_by("email")
            .values("email", "count(Comment.id)")
        )
        print(f"comments per author: {comments}")

        await s.model(Post).where("id = ?", 12).delete()  # soft: marked, hidden
        live = [p.id async for p in s.model(Post).iterate(batch=2)]
        print(f"live posts: {live}; with deleted: {await s.model(Post).with_deleted().count()}")

        await s.model(User).where("id = ?", 3).delete()  # CASCADE: ann's posts go too
        print(f"after deleting ann: {await s.model(Post).with_deleted().count()} posts")


if __name__ == "__main__":
    trio.run(main)
