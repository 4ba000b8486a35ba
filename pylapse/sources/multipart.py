"""Multipart JPEG streams (``multipart/x-mixed-replace``, MJPEG): the parser both HTTP sources use.

Cameras disagree on the multipart details, so the parser is lenient where they differ and strict
where it matters:

* the boundary comes from the Content-Type; some cameras declare it with the leading ``--``
  (``boundary=--myboundary``) and use it as is, others declare ``frame`` and send ``--frame``:
  both work, because the delimiter searched for is ``--`` + the boundary without leading dashes;
* a stream sent with no Content-Type at all is recognised by its first line, a boundary
  (``--frame``), as pyLapse 0.2 did (:func:`leading_boundary`);
* a part's ``Content-Length`` is used when present (a JPEG may then contain anything), otherwise
  the part ends at the next boundary;
* parts that are not JPEG (no ``FF D8`` start) are skipped;
* the buffer never holds more than ``max_bytes``: a part that never ends is an error, not a leak.
"""

from __future__ import annotations

import re

__all__ = ["MultipartError", "MultipartParser", "boundary_of", "leading_boundary"]

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


# a boundary line: "--" then a token (no spaces, as RFC 2046 allows them only inside quotes)
_BOUNDARY_LINE = re.compile(rb"\A(?:\r?\n)*--([!-~]{1,70})\r?\n")
LEADING_PEEK = 256  # bytes a body without a Content-Type may need to show its boundary line


def leading_boundary(head: bytes) -> bytes | None:
    """The boundary a body starts with (``--frame\\r\\n`` gives ``frame``), or None when
    ``head`` does not start like a multipart stream (a JPEG starts with ``FF D8``)."""
    match = _BOUNDARY_LINE.match(head)
    if not match:
        return None
    token = match.group(1).lstrip(b"-")
    return token or None
