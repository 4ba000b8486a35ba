"""MJPEG streams (``multipart/x-mixed-replace``): the first complete JPEG, or every frame.

Cameras disagree on the multipart details, so the parser is lenient where they differ and strict
where it matters:

* the boundary comes from the Content-Type; some cameras declare it with the leading ``--``
  (``boundary=--myboundary``) and use it as is, others declare ``frame`` and send ``--frame``:
  both work, because the delimiter searched for is ``--`` + the boundary without leading dashes;
* a part's ``Content-Length`` is used when present (a JPEG may then contain anything), otherwise
  the part ends at the next boundary;
* parts that are not JPEG (no ``FF D8`` start) are skipped;
* the buffer never holds more than ``max_bytes``: a part that never ends is an error, not a leak.

A grab connects with the http source's settings (auth, headers, TLS, timeouts) and must see a
whole frame within ``connect_timeout + read_timeout``. The live preview keeps one connection open
and reads every frame with :meth:`Source.iter_frames`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx

from pylapse.redact import mask_url
from pylapse.sources import http
from pylapse.sources.base import GrabError

__all__ = ["MultipartError", "MultipartParser", "Source", "boundary_of"]

_SOI = b"\xff\xd8"
_MAX_HEADER = 16 * 1024


class MultipartError(ValueError):
    """The stream cannot be parsed as multipart JPEG frames within the limits."""


def boundary_of(content_type: str) -> bytes | None:
    """The boundary token of a multipart Content-Type, without quotes or leading dashes."""
    match = re.search(r'boundary\s*=\s*"?([^";,]+)"?', content_type, re.I)
    if not match:
        return None
    token = match.group(1).strip().lstrip("-")
    return token.encode("latin-1") if token else None


class MultipartParser:
    """Incremental parser: :meth:`feed` bytes as they arrive, get the complete JPEGs back."""

    def __init__(self, boundary: bytes, max_bytes: int) -> None:
        self.delimiter = b"--" + boundary
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._state = "seek"  # seek -> headers -> body -> seek ...
        self._length: int | None = None

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        frames: list[bytes] = []
        while self._step(frames):
            pass
        if len(self._buf) > self.max_bytes:
            raise MultipartError(
                f"no complete frame within max_bytes ({self.max_bytes:,} bytes) of stream"
            )
        return frames

    def _step(self, frames: list[bytes]) -> bool:
        """Advance one state if the buffer allows; False when more bytes are needed."""
        buf = self._buf
        if self._state == "seek":
            at = buf.find(self.delimiter)
            if at < 0:
                # keep only a tail that could be the start of a split delimiter
                del buf[: max(0, len(buf) - len(self.delimiter))]
                return False
            eol = buf.find(b"\n", at)
            if eol < 0:
                return False
            del buf[: eol + 1]
            self._state = "headers"
            return True
        if self._state == "headers":
            end, sep = _header_end(buf)
            if end < 0:
                if len(buf) > _MAX_HEADER:
                    raise MultipartError("a part's headers never end (not a multipart stream?)")
                return False
            self._length = _content_length(bytes(buf[:end]))
            del buf[: end + sep]
            self._state = "body"
            return True
        # body
        if self._length is not None:
            if len(buf) < self._length:
                return False
            part = bytes(buf[: self._length])
            del buf[: self._length]
        else:
            at = buf.find(self.delimiter)
            if at < 0:
                return False
            part = bytes(buf[:at]).rstrip(b"-").rstrip(b"\r\n")
            del buf[:at]
        self._state = "seek"
        if part.startswith(_SOI):
            frames.append(part)
        return True


def _header_end(buf: bytearray) -> tuple[int, int]:
    """Index of the blank line ending a part's headers and its length, or (-1, 0)."""
    candidates = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (i := buf.find(sep)) >= 0]
    # a part with no headers at all starts straight after the boundary line
    if buf.startswith(b"\r\n"):
        candidates.append((0, 2))
    return min(candidates) if candidates else (-1, 0)


def _content_length(headers: bytes) -> int | None:
    match = re.search(rb"(?im)^content-length\s*:\s*(\d+)\s*$", headers)
    return int(match.group(1)) if match else None


class Source(http.Source):
    """The first complete JPEG of an MJPEG stream (or the body, if the URL is a snapshot)."""

    silence_hint = "; no complete JPEG frame arrived"

    def describe(self) -> str:
        return f"mjpeg camera {self.camera.name!r} at {mask_url(self.url)}"

    def _receive(self, response: httpx.Response, where: str, deadline: http._Deadline) -> bytes:
        ctype = response.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/"):
            return super()._receive(response, where, deadline)  # a plain snapshot URL works too
        for frame in self._frames(response, where, ctype):
            return frame
        raise GrabError(f"{where}: the stream ended before a complete JPEG frame")

    def _frames(self, response: httpx.Response, where: str, ctype: str) -> Iterator[bytes]:
        boundary = boundary_of(ctype)
        if boundary is None:
            raise GrabError(f"{where}: the stream's Content-Type names no boundary ({ctype!r})")
        parser = MultipartParser(boundary, self.camera.max_bytes)
        try:
            for chunk in response.iter_bytes():
                yield from parser.feed(chunk)
        except MultipartError as exc:
            raise GrabError(f"{where}: {exc}") from None

    def iter_frames(self, stop: threading.Event | None = None) -> Iterator[bytes]:
        """Every frame of one long-lived connection, until ``stop`` is set, the generator is
        closed or the stream fails (:class:`GrabError`). Only ``read_timeout`` applies here: a
        live view has no overall deadline."""
        where = mask_url(self.url)
        started = time.monotonic()
        try:
            with self.client().stream("GET", self.url) as response:
                self._check_status(response, where)
                ctype = response.headers.get("content-type", "")
                if not ctype.lower().startswith("multipart/"):
                    raise GrabError(f"{where}: not an MJPEG stream ({ctype or 'no Content-Type'})")
                for frame in self._frames(response, where, ctype):
                    yield frame
                    if stop is not None and stop.is_set():
                        return
        except GrabError:
            raise
        except Exception as exc:
            error = self._transport_error(exc, where, time.monotonic() - started)
            if error is exc:
                raise
            raise error from None
