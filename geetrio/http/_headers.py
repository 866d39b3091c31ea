"""A case-insensitive, multi-valued view of request headers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

__all__ = ["Headers"]


class Headers(Mapping[str, str]):
    """Read-only request headers; lookups ignore case.

    ``headers["Content-Type"]`` gives the value (several values of one name are joined
    with ``", "``); ``headers.getlist(name)`` gives every value in order;
    ``headers.raw`` is the list of ``(name, value)`` pairs as received.
    """

    __slots__ = ("_index", "raw")

    def __init__(self, raw: list[tuple[str, str]]) -> None:
        self.raw = raw
        index: dict[str, list[str]] = {}
        for name, value in raw:
            index.setdefault(name.lower(), []).append(value)
        self._index = index

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._index[name.lower()])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def getlist(self, name: str) -> list[str]:
        return list(self._index.get(name.lower(), ()))

    def __repr__(self) -> str:
        return f"Headers({self.raw!r})"
