"""Live preview: one upstream connection per camera, shared by any number of viewers.

The classic Flask camera-streaming pattern, made thread-safe and bounded: the first viewer of a
camera starts an upstream thread that publishes the newest frame; every viewer waits for frames
newer than the one it last sent (a slow viewer skips frames, it never queues them); when the last
viewer leaves, the upstream stays warm for ``idle_timeout`` seconds and then closes.

Upstream by kind of source:

* a source with ``iter_frames(stop)`` (MJPEG) is followed over one long-lived connection;
* a source with ``preview_frame()`` (gphoto2's live view, which does not fire the shutter) is
  polled with that;
* any other source is polled with ``grab()`` every ``poll_interval`` seconds.

Errors upstream never reach viewers as exceptions: they are kept in :meth:`PreviewHub.status`
and the upstream retries after ``retry_delay``. Nothing here knows about HTTP; the web layer
wraps :meth:`PreviewHub.stream` with :func:`multipart_chunks` for a
``multipart/x-mixed-replace`` response (:data:`CONTENT_TYPE`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pylapse.redact import mask_secrets
from pylapse.sources.base import FrameSource, GrabError

__all__ = [
    "BOUNDARY",
    "CONTENT_TYPE",
    "PreviewHub",
    "PreviewStatus",
    "default_hub",
    "multipart_chunks",
    "preview_stream",
    "shutdown_default_hub",
]

log = logging.getLogger(__name__)

BOUNDARY = "pylapseframe"
CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"

SourceLike = FrameSource | Callable[[], FrameSource]


@dataclass(frozen=True)
class PreviewStatus:
    """What one camera's upstream is doing (``None`` from :meth:`PreviewHub.status` if none)."""

    viewers: int
    frames: int
    last_error: str | None
    last_frame_at: float | None  # time.monotonic() of the newest frame


def multipart_chunks(frames: Iterable[bytes], content_type: str = "image/jpeg") -> Iterator[bytes]:
    """Frames as the body parts of a ``multipart/x-mixed-replace`` response."""
    for frame in frames:
        head = (
            f"--{BOUNDARY}\r\nContent-Type: {content_type}\r\nContent-Length: {len(frame)}\r\n\r\n"
        )
        yield head.encode("ascii") + frame + b"\r\n"


class _Upstream:
    """The thread that fetches one camera's frames while anyone watches."""

    def __init__(
        self, hub: PreviewHub, key: str, source: SourceLike, version: object = None
    ) -> None:
        self.hub = hub
        self.key = key
        self.version = version
        self._source_like = source
        self._owns_source = not isinstance(source, FrameSource)
        self.cond = threading.Condition()
        self.frame: bytes | None = None
        self.seq = 0
        self.viewers = 0  # guarded by hub._lock
        self.idle_since = time.monotonic()
        self.retired = False  # guarded by hub._lock; set once, the thread then ends
        self.last_error: str | None = None
        self.last_frame_at: float | None = None
        self.stop = threading.Event()
        self.source: FrameSource | None = None
        self.thread = threading.Thread(target=self._run, name=f"preview-{key}", daemon=True)

    # --- publishing ---------------------------------------------------------------------------
    def publish(self, frame: bytes) -> None:
        with self.cond:
            self.frame = frame
            self.seq += 1
            self.last_error = None
            self.last_frame_at = time.monotonic()
            self.cond.notify_all()

    def end(self) -> None:
        self.stop.set()
        with self.cond:
            self.cond.notify_all()
        if self._owns_source and self.source is not None and self.thread.is_alive():
            # wakes a thread blocked reading a stalled stream (closing its connections)
            with contextlib.suppress(Exception):
                self.source.close()

    # --- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        source: FrameSource | None = None
        try:
            like = self._source_like
            source = like if isinstance(like, FrameSource) else like()  # a factory: ours to close
            self.source = source
            while not self.stop.is_set() and not self.hub._retire_if_idle(self):
                try:
                    if hasattr(source, "iter_frames"):
                        self._follow(source)
                    else:
                        self._poll(source)
                except GrabError as exc:
                    self.last_error = str(exc)
                    self.stop.wait(self.hub.retry_delay)
                except Exception as exc:  # a bug in a source must not kill previews silently
                    log.exception("preview of %s failed", self.key)
                    self.last_error = mask_secrets(f"{type(exc).__name__}: {exc}")
                    self.stop.wait(self.hub.retry_delay)
        except Exception as exc:  # the factory itself failed (e.g. unknown camera type)
            self.last_error = mask_secrets(f"{type(exc).__name__}: {exc}")
            log.warning("preview of %s cannot start: %s", self.key, self.last_error)
        finally:
            self.hub._retire(self)
            self.end()
            if source is not None and self._owns_source:
                with contextlib.suppress(Exception):
                    source.close()

    def _follow(self, source: FrameSource) -> None:
        frames = source.iter_frames(self.stop)  # type: ignore[attr-defined]
        try:
            for frame in frames:
                self.publish(frame)
                if self.stop.is_set() or self.hub._retire_if_idle(self):
                    return
        finally:
            frames.close()
        # the stream ended by itself: wait a little before reconnecting
        self.stop.wait(self.hub.retry_delay)

    def _poll(self, source: FrameSource) -> None:
        started = time.monotonic()
        fetch = getattr(source, "preview_frame", None) or source.grab
        self.publish(fetch())
        spent = time.monotonic() - started
        self.stop.wait(max(0.0, self.hub.poll_interval - spent))


class PreviewHub:
    """Shared live previews, keyed by camera id. Thread-safe; one per runtime.

    ``idle_timeout``: seconds an upstream stays open with no viewer. ``poll_interval``: seconds
    between grabs for sources without a stream. ``max_fps``: the most frames a viewer is sent per
    second. ``retry_delay``: seconds before an upstream retries after an error.
    """

    def __init__(
        self,
        *,
        idle_timeout: float = 10.0,
        poll_interval: float = 1.0,
        max_fps: float = 10.0,
        retry_delay: float = 2.0,
    ) -> None:
        self.idle_timeout = idle_timeout
        self.poll_interval = poll_interval
        self.max_fps = max_fps
        self.retry_delay = retry_delay
        self._lock = threading.Lock()
        self._upstreams: dict[str, _Upstream] = {}
        self._closed = threading.Event()

    # --- viewers ------------------------------------------------------------------------------
    def stream(
        self,
        key: str,
        source: SourceLike,
        *,
        version: object = None,
        stop: threading.Event | None = None,
    ) -> Iterator[bytes]:
        """JPEG frames of camera ``key`` as they come, until the caller stops iterating (or
        closes the generator), ``stop`` is set, or the hub shuts down. ``source`` is the camera's
        FrameSource, or a factory called once when an upstream has to be opened (the hub then
        closes what it made). ``version`` identifies the camera's settings: a viewer arriving
        with another version replaces the upstream (the camera was edited)."""
        if self._closed.is_set():
            return
        upstream = self._attach(key, source, version)
        min_gap = 1.0 / self.max_fps if self.max_fps > 0 else 0.0
        seen = 0
        try:
            while not self._closed.is_set() and not (stop is not None and stop.is_set()):
                with upstream.cond:
                    if upstream.seq == seen and not upstream.stop.is_set():
                        upstream.cond.wait(timeout=0.5)
                    if upstream.seq == seen:
                        if upstream.stop.is_set():
                            return  # reset or shut down under us
                        continue
                    frame, seen = upstream.frame, upstream.seq
                assert frame is not None
                sent = time.monotonic()
                yield frame
                gap = min_gap - (time.monotonic() - sent)
                if gap > 0 and self._closed.wait(gap):
                    return
        finally:
            self._detach(upstream)

    def _attach(self, key: str, source: SourceLike, version: object) -> _Upstream:
        outdated = None
        with self._lock:
            upstream = self._upstreams.get(key)
            if upstream is not None and upstream.version != version:
                outdated = upstream
                self._retire_locked(upstream)
                upstream = None
            if upstream is None or upstream.retired:
                upstream = _Upstream(self, key, source, version)
                self._upstreams[key] = upstream
                upstream.viewers = 1
                upstream.thread.start()
            else:
                upstream.viewers += 1
        if outdated is not None:
            outdated.end()
        return upstream

    def _detach(self, upstream: _Upstream) -> None:
        with self._lock:
            upstream.viewers -= 1
            if upstream.viewers == 0:
                upstream.idle_since = time.monotonic()

    # --- upstream bookkeeping (called from the upstream thread) -------------------------------
    def _retire_if_idle(self, upstream: _Upstream) -> bool:
        with self._lock:
            if upstream.retired:
                return True
            idle = upstream.viewers == 0 and (
                time.monotonic() - upstream.idle_since >= self.idle_timeout
            )
            if idle:
                self._retire_locked(upstream)
            return idle

    def _retire(self, upstream: _Upstream) -> None:
        with self._lock:
            self._retire_locked(upstream)

    def _retire_locked(self, upstream: _Upstream) -> None:
        upstream.retired = True
        if self._upstreams.get(upstream.key) is upstream:
            del self._upstreams[upstream.key]

    # --- control ------------------------------------------------------------------------------
    def status(self, key: str) -> PreviewStatus | None:
        with self._lock:
            upstream = self._upstreams.get(key)
            if upstream is None:
                return None
            return PreviewStatus(
                viewers=upstream.viewers,
                frames=upstream.seq,
                last_error=upstream.last_error,
                last_frame_at=upstream.last_frame_at,
            )

    def active(self) -> dict[str, int]:
        """Viewers per camera with an open upstream."""
        with self._lock:
            return {key: up.viewers for key, up in self._upstreams.items()}

    def reset(self, key: str) -> None:
        """Close camera ``key``'s upstream now (after its config changed); viewers end."""
        with self._lock:
            upstream = self._upstreams.get(key)
            if upstream is not None:
                self._retire_locked(upstream)
        if upstream is not None:
            upstream.end()

    def shutdown(self, timeout: float = 5.0) -> None:
        """End every viewer and upstream; waits up to ``timeout`` s for the threads."""
        self._closed.set()
        with self._lock:
            upstreams = list(self._upstreams.values())
            for upstream in upstreams:
                self._retire_locked(upstream)
        for upstream in upstreams:
            upstream.end()
        deadline = time.monotonic() + timeout
        for upstream in upstreams:
            upstream.thread.join(max(0.0, deadline - time.monotonic()))


# --- the process-wide hub behind Camera.preview_stream() ------------------------------------------
# Made on first use, never at import. A Runtime that owns its own hub passes it explicitly; this
# one exists so `Camera(...).preview_stream()` works in plain library use too.
_default_hub: PreviewHub | None = None
_default_lock = threading.Lock()


def default_hub() -> PreviewHub:
    """The shared hub used when none is given (created on first call)."""
    global _default_hub
    with _default_lock:
        if _default_hub is None or _default_hub._closed.is_set():
            _default_hub = PreviewHub()
        return _default_hub


def shutdown_default_hub() -> None:
    """Close the shared hub's viewers and upstreams (on application shutdown)."""
    with _default_lock:
        hub = _default_hub
    if hub is not None:
        hub.shutdown()


def preview_stream(camera: Any, *, hub: PreviewHub | None = None) -> Iterator[bytes]:
    """Live JPEG frames of a :class:`pylapse.capture.Camera` (anything with ``config`` and ``id``
    or ``name``; ``ffmpeg_path``/``data_path`` are used when present). The upstream gets a source
    of its own (so closing it never disturbs a capture in progress); hardware sources still take
    turns with captures through their per-device locks."""
    from pylapse.sources.base import create_source

    config = camera.config
    key = str(getattr(camera, "id", None) or camera.name)
    options = {
        "ffmpeg_path": getattr(camera, "ffmpeg_path", None),
        "data_path": getattr(camera, "data_path", None),
    }
    version = (config.model_dump_json(), tuple(sorted((k, str(v)) for k, v in options.items())))
    return (hub or default_hub()).stream(
        key, lambda: create_source(config, **options), version=version
    )
