"""Snapshot URLs over HTTP(S): an IP-webcam app's ``/shot.jpg``, motion's ``/0/current``, an NVR.

Timeouts: ``connect_timeout`` to connect, ``read_timeout`` as the longest silence between bytes,
and an overall deadline of ``connect_timeout + read_timeout`` for the whole request, so a camera
trickling a byte every second cannot hold a capture for ever. The deadline is enforced on the open
socket (it is shut down when time is up), not merely checked between chunks.

The body is read as a stream and abandoned as soon as it passes ``max_bytes``, so a camera sending
100 MB costs at most ``max_bytes`` of memory. Credentials come from ``username``/``password`` or
from the URL's ``user:pass@`` part; they go out with the configured scheme (basic or digest) and
never appear in an error message.

A URL that answers with an MJPEG stream (``multipart/x-mixed-replace``, or no Content-Type and a
body starting with a boundary line) gives the stream's first complete JPEG, as pyLapse 0.2 did
for every camera URL: cameras whose only URL is a stream keep working as ``http`` cameras.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from pylapse.redact import guard_loggers, mask_secrets, mask_url
from pylapse.sources.base import FrameSource, GrabError, split_credentials
from pylapse.sources.multipart import (
    LEADING_PEEK,
    MultipartError,
    MultipartParser,
    boundary_of,
    leading_boundary,
)

if TYPE_CHECKING:
    from pylapse.config.cameras import CameraConfig

__all__ = ["Source"]

# bodies of these types are pages or API answers, never frames (cameras mislabel images as
# application/octet-stream, so only these are refused here; the capture layer validates the rest)
_NOT_IMAGES = ("text/", "application/json", "application/xml", "application/xhtml")


class _Deadline:
    """Shuts a response's socket down when the overall deadline passes, waking a blocked read."""

    def __init__(self, seconds: float) -> None:
        self.expired = threading.Event()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            self._sock = sock
        if self.expired.is_set():
            self._fire()

    def _fire(self) -> None:
        self.expired.set()
        if self._sock is not None:
            # the plain socket's shutdown, also for TLS: wakes the reader without touching SSL state
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every camera: building one costs ~45 ms of CPU, which
    fifty cameras would otherwise pay at once when the scheduler starts."""
    return httpx.create_ssl_context()


class Source(FrameSource):
    """One JPEG (or PNG) per GET of ``camera.url``."""

    # added to the read-timeout message (the mjpeg source says no frame arrived)
    silence_hint = ""

    def __init__(self, camera: CameraConfig, **options: Any) -> None:
        super().__init__(camera, **options)
        url, user, password = split_credentials(camera.url or "")
        self.url = url
        self.username = camera.username or user
        self.password = camera.password if camera.password is not None else password
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    @property
    def deadline(self) -> float:
        """Seconds a whole grab may take."""
        return self.camera.connect_timeout + self.camera.read_timeout

    def describe(self) -> str:
        return f"http camera {self.camera.name!r} at {mask_url(self.url)}"

    def _auth(self) -> httpx.Auth | None:
        if not self.username:
            return None
        if self.camera.auth == "digest":
            return httpx.DigestAuth(self.username, self.password or "")
        return httpx.BasicAuth(self.username, self.password or "")

    def client(self) -> httpx.Client:
        """One keep-alive client per source (thread-safe), made on first use."""
        with self._client_lock:
            if self._client is None:
                guard_loggers()  # httpx logs every request's URL, query secrets included
                cam = self.camera
                self._client = httpx.Client(
                    auth=self._auth(),
                    headers=dict(cam.headers),
                    timeout=httpx.Timeout(
                        connect=cam.connect_timeout,
                        read=cam.read_timeout,
                        write=cam.read_timeout,
                        pool=cam.connect_timeout,
                    ),
                    follow_redirects=cam.max_redirects > 0,
                    max_redirects=cam.max_redirects,
                    verify=_tls_context() if cam.verify_tls else False,
                    trust_env=False,  # a proxy from the environment must not reroute LAN cameras
                )
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def grab(self, when: datetime | None = None) -> bytes:
        where = mask_url(self.url)
        deadline = _Deadline(self.deadline)
        started = time.monotonic()
        try:
            with self.client().stream("GET", self.url) as response:
                deadline.watch(response)
                self._check_status(response, where)
                return self._receive(response, where, deadline)
        except GrabError:
            if deadline.expired.is_set():
                raise self._deadline_error(where) from None
            raise
        except Exception as exc:
            if deadline.expired.is_set():
                raise self._deadline_error(where) from None
            error = self._transport_error(exc, where, time.monotonic() - started)
            if error is exc:
                raise  # not a transport failure: a bug, keep its traceback
            raise error from None
        finally:
            deadline.cancel()

    def _receive(self, response: httpx.Response, where: str, deadline: _Deadline) -> bytes:
        """The frame from a response whose status is fine: the body, or a stream's first JPEG."""
        self._check_type(response, where)
        boundary, chunks = self._stream_boundary(response, where)
        if boundary is None:
            return self._read_body(chunks, where, deadline)
        for frame in self._multipart_frames(chunks, where, boundary):
            return frame
        raise GrabError(f"{where}: the stream ended before a complete JPEG frame")

    def _stream_boundary(
        self, response: httpx.Response, where: str
    ) -> tuple[bytes | None, Iterator[bytes]]:
        """The multipart boundary of ``response`` (None for a plain body) and its bytes.

        Only a response with no Content-Type is peeked at: some cameras send their stream bare,
        and 0.2 read it anyway. The peeked bytes stay at the front of the returned chunks.
        """
        ctype = response.headers.get("content-type", "")
        chunks = response.iter_bytes()
        if ctype.lower().startswith("multipart/"):
            boundary = boundary_of(ctype)
            if boundary is None:
                raise GrabError(f"{where}: the stream's Content-Type names no boundary ({ctype!r})")
            return boundary, chunks
        if ctype.strip():
            return None, chunks
        head = b""
        for chunk in chunks:
            head += chunk
            # a JPEG or PNG shows by its first byte; a boundary line by its end
            start = head.lstrip(b"\r\n")
            if start[:1] not in (b"", b"-") or b"\n" in start or len(head) > LEADING_PEEK:
                break
        rest = _prepend(head, chunks)
        return leading_boundary(head), rest

    def _multipart_frames(
        self, chunks: Iterator[bytes], where: str, boundary: bytes
    ) -> Iterator[bytes]:
        """The complete JPEGs of a multipart stream, as they arrive."""
        parser = MultipartParser(boundary, self.camera.max_bytes)
        try:
            for chunk in chunks:
                yield from parser.feed(chunk)
        except MultipartError as exc:
            raise GrabError(f"{where}: {exc}") from None

    def _transport_error(self, exc: Exception, where: str, elapsed: float) -> Exception:
        """The GrabError for an httpx/socket failure (anything else is a bug: re-raised)."""
        if isinstance(exc, httpx.TooManyRedirects):
            return GrabError(
                f"{where}: more than {self.camera.max_redirects} redirects (max_redirects)"
            )
        if isinstance(exc, httpx.ConnectTimeout):
            return GrabError(
                f"{where}: no connection within {self.camera.connect_timeout:g} s (connect_timeout)"
            )
        if isinstance(exc, httpx.TimeoutException):
            return GrabError(
                f"{where}: no data for {self.camera.read_timeout:g} s (read_timeout)"
                + self.silence_hint
            )
        if isinstance(exc, httpx.HTTPError | OSError):
            reason = mask_secrets(_describe_error(exc), self.password)
            return GrabError(f"{where}: {reason} after {elapsed:.1f} s")
        return exc

    def _deadline_error(self, where: str) -> GrabError:
        return GrabError(
            f"{where}: the response took longer than {self.deadline:g} s overall "
            "(connect_timeout + read_timeout); the camera is sending too slowly"
        )

    def _check_status(self, response: httpx.Response, where: str) -> None:
        status = response.status_code
        if status >= 300:
            reason = response.reason_phrase or ""
            hint = ""
            if status == 401:
                hint = (
                    "; check username, password and auth (basic or digest)"
                    if self.username
                    else "; the camera wants a username and password"
                )
            elif status in (301, 302, 303, 307, 308):
                hint = "; redirects are off (max_redirects is 0)"
            raise GrabError(f"{where}: HTTP {status} {reason}{hint}".rstrip())

    def _check_type(self, response: httpx.Response, where: str) -> None:
        ctype = response.headers.get("content-type", "").lower()
        if ctype.startswith(_NOT_IMAGES):
            raise GrabError(
                f"{where}: the camera answered with {ctype.split(';')[0]} content, not an image "
                "(is the URL the snapshot URL?)"
            )
        length = response.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.camera.max_bytes:
            raise GrabError(
                f"{where}: response of {int(length):,} bytes is larger than max_bytes "
                f"({self.camera.max_bytes:,})"
            )

    def _read_body(self, chunks: Iterator[bytes], where: str, deadline: _Deadline) -> bytes:
        cap = self.camera.max_bytes
        body = bytearray()
        for chunk in chunks:
            body += chunk
            if len(body) > cap:
                raise GrabError(
                    f"{where}: response passed max_bytes ({cap:,} bytes) while downloading"
                )
            if deadline.expired.is_set():
                raise self._deadline_error(where)
        if deadline.expired.is_set():  # a read cut short by the deadline can look like the end
            raise self._deadline_error(where)
        if not body:
            raise GrabError(f"{where}: the camera sent an empty response")
        return bytes(body)


def _prepend(head: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from chunks


def _describe_error(exc: BaseException) -> str:
    """A short, credential-free reason for a transport error."""
    if isinstance(exc, httpx.ConnectError):
        text = str(exc) or "connection failed"
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return (
                "the camera's TLS certificate is not trusted (self-signed? set verify_tls "
                "to false for this camera)"
            )
        if "refused" in text.lower():
            return "connection refused (is the camera on and the port right?)"
        if "name or service not known" in text.lower() or "nodename" in text.lower():
            return "host name not found"
        return f"cannot connect ({text})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the camera broke the connection ({exc})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
