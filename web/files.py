"""Files sent to the browser (frames, thumbnails, videos): checked against the storage roots at
the moment they are served, and sent from the very file that was checked.

A path in the index or a job's result was checked when it was written, but the file system can
change since: a frame replaced by a symlink to ``/etc/passwd``, a day folder swapped for a link
out of the roots. So each file is opened through :func:`pylapse.storage.open_confined` (resolve,
check, open without following a last-part link, check the opened file's own path) and
:class:`OpenFileResponse` sends that open file instead of opening the path a second time.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import anyio
from fastapi import HTTPException
from fastapi.responses import FileResponse
from starlette.types import Receive, Scope, Send

from pylapse import storage

if TYPE_CHECKING:
    from pylapse.index.frame import Frame
    from pylapse.runtime import Runtime

__all__ = ["OpenFileResponse", "frame_roots", "open_or_http_error"]

_PATHSEND = "http.response.pathsend"


class OpenFileResponse(FileResponse):
    """A :class:`FileResponse` of an already open file (HTTP Range requests work the same).

    Starlette's response opens ``path`` when it is sent, which would be a second, unchecked
    look-up; this one reads ``handle`` and closes it when the response is done. The server's
    ``pathsend`` extension (the server opening the path itself) is withheld for the same reason.
    """

    def __init__(self, handle: BinaryIO, path: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(path, stat_result=os.fstat(handle.fileno()), **kwargs)
        self._handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = {k: v for k, v in scope.get("extensions", {}).items() if k != _PATHSEND}
        try:
            await super().__call__({**scope, "extensions": extensions}, receive, send)
        finally:
            self._handle.close()

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        # each way of sending (whole file, one range, several) opens the file once
        yield anyio.wrap_file(self._handle)


def open_or_http_error(
    path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]], what: str
) -> BinaryIO:
    """``path`` opened inside ``roots`` (see :func:`pylapse.storage.open_confined`), or the
    HTTP error a client gets: 403 outside the roots (whether or not a file is there, so the
    answer says nothing about the rest of the disk), 404 when the file is gone."""
    try:
        handle, _real = storage.open_confined(path, roots)
    except storage.PathNotAllowed:
        raise HTTPException(
            403,
            f"{what}: its file does not lie inside the storage roots (a link out of them?), "
            "so it is not served",
        ) from None
    except OSError:
        raise HTTPException(404, f"{what}: the file is gone ({Path(path).name})") from None
    return handle


def frame_roots(runtime: Runtime, frame: Frame) -> list[Path]:
    """Where ``frame``'s file may be: the storage roots, and the folder of each collection its
    rows belong to (a camera folder the config file puts outside the roots is its owner's
    choice; the dashboard only ever sets folders inside them)."""
    config = runtime.config
    roots = list(config.root_paths)
    for collection in runtime.collections().values():
        if collection.key == frame.collection:
            roots.extend(collection.roots)
    camera = config.cameras.get(frame.collection)  # frames are indexed under their camera's id
    if camera is not None:
        roots.append(config.resolve(camera.output_dir))
    return roots
