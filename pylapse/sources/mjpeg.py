"""MJPEG streams (``multipart/x-mixed-replace``): the first complete JPEG, or every frame.

The multipart parsing is :mod:`pylapse.sources.multipart` (the ``http`` source uses it too: a
snapshot URL that answers with a stream gives its first frame, as in pyLapse 0.2). A grab
connects with the http source's settings (auth, headers, TLS, timeouts) and must see a whole
frame within ``connect_timeout + read_timeout``. The live preview keeps one connection open and
reads every frame with :meth:`Source.iter_frames`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from pylapse.redact import mask_url
from pylapse.sources import http
from pylapse.sources.base import GrabError
from pylapse.sources.multipart import MultipartError, MultipartParser, boundary_of

# the parser's names stay importable from here, where they were first
__all__ = ["MultipartError", "MultipartParser", "Source", "boundary_of"]


class Source(http.Source):
    """The first complete JPEG of an MJPEG stream (or the body, if the URL is a snapshot): the
    http source's grab, which takes the first frame of any stream; this type adds the live
    preview's :meth:`iter_frames` and names itself in messages."""

    silence_hint = "; no complete JPEG frame arrived"

    def describe(self) -> str:
        return f"mjpeg camera {self.camera.name!r} at {mask_url(self.url)}"

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
                boundary, chunks = self._stream_boundary(response, where)
                if boundary is None:
                    raise GrabError(f"{where}: not an MJPEG stream ({ctype or 'no Content-Type'})")
                for frame in self._multipart_frames(chunks, where, boundary):
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
