"""``UploadFile``: one file of a multipart form, in memory while small, spooled to an
unnamed temporary file past a threshold — every disk operation in a worker thread, so
the event loop never waits on the disk.

The temporary file is created already unlinked (``tempfile.TemporaryFile``: Linux's
``O_TMPFILE``), so nothing is ever left in the directory, not even after a crash;
closing it (``aclose``; the context does at the end of the request) frees the space.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import IO

import trio

__all__ = ["UploadFile", "safe_filename"]

_FLUSH = 1 << 20  # bytes gathered in memory before one write to the spooled file


class UploadFile:
    """A file from ``<input type=file>``: ``filename`` (a safe base name), ``raw_filename``
    (as sent), ``content_type``, ``size``, ``headers`` of the part; ``await read()``,
    ``await save(path)``."""

    def __init__(
        self,
        field: str,
        raw_filename: str,
        content_type: str,
        headers: list[tuple[str, str]],
        *,
        spool_bytes: int,
        spool_dir: str | None = None,
    ) -> None:
        self.field = field
        self.raw_filename = raw_filename
        self.filename = safe_filename(raw_filename)
        self.content_type = content_type
        self.headers = headers
        self.size = 0
        self._memory = bytearray()  # the whole file while it is small
        self._file: IO[bytes] | None = None  # past spool_bytes: the file, and
        self._pending: list[bytes] = []  # what is not written to it yet
        self._pending_bytes = 0
        self._spool_bytes = spool_bytes
        self._spool_dir = spool_dir
        self._position = 0

    def __repr__(self) -> str:
        where = "memory" if self._file is None else "disk"
        return f"<UploadFile {self.field}={self.filename!r} {self.size} bytes in {where}>"

    @property
    def in_memory(self) -> bool:
        """True while the file is small enough to stay in memory."""
        return self._file is None

    async def write(self, data: bytes) -> None:
        """Append ``data`` (the form parser does, as the body arrives). Cancellation:
        a cancelled write may have spooled part of ``data``; the upload is then
        unusable (the request is ending)."""
        self.size += len(data)
        if self._file is None:
            if self.size <= self._spool_bytes:
                self._memory += data
                return
            self._file = await trio.to_thread.run_sync(
                tempfile.TemporaryFile, "w+b", -1, None, None, "", "upload-", self._spool_dir
            )
            if self._memory:
                self._pending.append(bytes(self._memory))
                self._memory = bytearray()
        self._pending.append(data)  # kept as it came: the worker thread does the copying
        self._pending_bytes += len(data)
        if self._pending_bytes >= _FLUSH:
            await self._flush()

    async def _flush(self) -> None:
        file = self._file
        assert file is not None
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        await trio.to_thread.run_sync(file.writelines, pending)

    async def finish(self) -> None:
        """The part ended: write what is pending and rewind. Cancellation: as ``write``."""
        if self._file is not None:
            if self._pending:
                await self._flush()
            await trio.to_thread.run_sync(self._file.seek, 0)

    async def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes from the current position (all that is left with -1).
        Cancellation: from disk, a cancelled read may still have moved the position."""
        if self._file is None:
            end = len(self._memory) if size < 0 else self._position + size
            data = bytes(self._memory[self._position : end])
            self._position += len(data)
            await trio.lowlevel.checkpoint()
            return data
        return await trio.to_thread.run_sync(self._file.read, size)

    async def save(self, path: str | os.PathLike[str]) -> int:
        """Copy the whole upload to ``path`` (created or truncated) in a worker thread,
        whatever was read before; returns the size. Cancellation: the copy may be left
        partly written."""
        file = self._file
        memory = bytes(self._memory) if file is None else b""

        def copy() -> None:
            with open(path, "wb") as out:
                if file is None:
                    out.write(memory)
                else:  # from the start, leaving the read position where it was
                    position = file.tell()
                    file.seek(0)
                    shutil.copyfileobj(file, out, 1 << 20)
                    file.seek(position)

        await trio.to_thread.run_sync(copy)
        return self.size

    def close(self) -> None:
        """Free the memory and the temporary file (if any): closing an unlinked file
        only frees its blocks, no disk wait."""
        self._memory = bytearray()
        self._pending = []
        file, self._file = self._file, None
        if file is not None:
            file.close()

    async def aclose(self) -> None:
        """``close()``, then a checkpoint. Cancellation: closes anyway."""
        self.close()
        await trio.lowlevel.checkpoint()


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:]")


def safe_filename(raw: str) -> str:
    """A name that is safe to join to a directory: the last path component (``/`` or
    ``\\``), control characters and ``:`` replaced, no leading dots; "upload" when
    nothing is left."""
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).lstrip(".").strip()
    return base[:255] or "upload"
