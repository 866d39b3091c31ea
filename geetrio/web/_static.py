"""Serving files from a folder, never from outside it."""

from __future__ import annotations

import mimetypes
import os
import stat
from email.utils import formatdate, parsedate_to_datetime

import trio

from ._context import Context
from ._types import HandlerFunc

__all__ = ["static_handler"]

CHUNK = 64 * 1024
SMALL_FILE = 256 * 1024  # read in the same thread hop as the lookup


class _FileChunks:
    """An async iterator over an open file; closes it at the end or on ``aclose``."""

    def __init__(self, file: trio.abc.AsyncResource, size: int) -> None:
        self._file = file
        self._left = size

    def __aiter__(self) -> _FileChunks:
        return self

    async def __anext__(self) -> bytes:
        if self._left <= 0:
            await self.aclose()
            raise StopAsyncIteration
        chunk: bytes = await self._file.read(min(CHUNK, self._left))  # type: ignore[attr-defined]
        if not chunk:  # the file shrank: stop short, the server closes the connection
            await self.aclose()
            raise RuntimeError("file shrank while being sent")
        self._left -= len(chunk)
        return chunk

    async def aclose(self) -> None:
        await self._file.aclose()


def _resolve(root: str, relative: str) -> tuple[str, os.stat_result, bytes | None] | None:
    """Runs in a worker thread: the real path of ``relative`` under ``root`` if it is a
    regular file inside the folder (symlinks resolved), with its stat and, when small,
    its content."""
    if "\x00" in relative:
        return None
    candidate = os.path.realpath(os.path.join(root, relative))
    inside = root if root.endswith(os.sep) else root + os.sep  # root may be "/"
    if not candidate.startswith(inside):
        return None  # "..", an absolute path, or a symlink that leads out
    try:
        info = os.stat(candidate)
        if not stat.S_ISREG(info.st_mode):
            return None  # directories are not listed
        content = None
        if info.st_size <= SMALL_FILE:
            with open(candidate, "rb") as file:
                content = file.read()
    except OSError:
        return None
    return candidate, info, content


def _not_modified(c: Context, mtime: float) -> bool:
    since = c.headers.get("if-modified-since")
    if not since:
        return False
    try:
        return int(mtime) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False  # an unparsable date is ignored, as RFC 9110 says


def static_handler(root: str | os.PathLike[str]) -> HandlerFunc:
    """A handler for ``.../*filepath`` routes that serves files under ``root``."""
    real_root = os.path.realpath(root)

    async def serve_file(c: Context) -> None:
        found = await trio.to_thread.run_sync(_resolve, real_root, c.param("filepath"))
        if found is None:
            c.string(404, "404 NOT FOUND: %s\n", c.path)
            return
        path, info, content = found
        c.set_header("last-modified", formatdate(info.st_mtime, usegmt=True))
        if _not_modified(c, info.st_mtime):
            c.status(304)
            return
        content_type, encoding = mimetypes.guess_type(path)
        c.set_header("content-type", content_type or "application/octet-stream")
        if encoding:
            c.set_header("content-encoding", encoding)
        if content is not None:
            c.data(200, content)
        elif c.method == "HEAD":
            c.stream(200, _NoChunks(), info.st_size)
        else:
            file = await trio.open_file(path, "rb")
            c.stream(200, _FileChunks(file, info.st_size), info.st_size)

    return serve_file


class _NoChunks:
    """The body of a HEAD answer for a large file: its length, no bytes."""

    def __aiter__(self) -> _NoChunks:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration
