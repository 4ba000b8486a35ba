"""RTSP cameras: one frame through ffmpeg, decoded from the live stream and encoded as JPEG.

ffmpeg is the config's ``ffmpeg_path`` when set, else the bundled imageio-ffmpeg binary (see
:func:`pylapse.ffmpeg.find_ffmpeg`). Transport is TCP unless ``rtsp_transport`` says ``udp``
(TCP survives NAT and lossy Wi-Fi; UDP loses packets and smears frames).

Time limits: ffmpeg's own socket timeout is ``read_timeout``; the whole run is killed after
``connect_timeout + read_timeout``. Stream analysis is capped at one second, which is plenty for
cameras that announce their parameters in the SDP (nearly all); when a stream needs longer
("could not find codec parameters"), the grab is retried once with ffmpeg's default analysis.

The live preview (:meth:`Source.iter_frames`) keeps one ffmpeg reading the stream and re-encoding
it as MJPEG at a few frames per second, instead of opening an RTSP session per preview frame.

Credentials: ``username``/``password`` are put into the URL for ffmpeg (the only way its RTSP
client takes them; note that the command line is visible to local users in ``ps``). Every log
line and error masks them, including ffmpeg's own messages, which echo the URL.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from pylapse.orphans import child_argv
from pylapse.redact import mask_secrets, mask_url
from pylapse.sources.base import FrameSource, GrabError, SourceUnavailable, split_credentials
from pylapse.sources.mjpeg import MultipartError, MultipartParser
from pylapse.sources.process import ToolMissing, ToolTimeout, run_tool, stderr_tail

if TYPE_CHECKING:
    from pylapse.config.cameras import CameraConfig

__all__ = ["PREVIEW_FPS", "Source", "frame_command", "stream_command"]

log = logging.getLogger(__name__)

_ANALYZE_US = 1_000_000  # one second of stream analysis before the first frame
_SOI = b"\xff\xd8"
_NEEDS_ANALYSIS = ("could not find codec parameters", "unspecified size")
# RTSP status codes as ffmpeg words them ("method DESCRIBE failed: 401 Unauthorized", "Server
# returned 404 Not Found"); never a bare "401" anywhere, which a port such as 40107 contains.
_UNAUTHORIZED = re.compile(r"\b401 unauthorized\b|(?:failed:|returned) 401\b|\bunauthorized\b")
_NOT_FOUND = re.compile(r"\b404 not found\b|(?:failed:|returned) 404\b")
_STREAM_BOUNDARY = "pylapsertsp"
PREVIEW_FPS = 5.0  # frames per second of the live re-stream: smooth enough, light on the CPU


def _qscale(quality: int | None) -> int:
    """ffmpeg's MJPEG ``-q:v`` (2 best .. 31 worst) for a JPEG quality 1-100 (None: best)."""
    if quality is None:
        return 2
    return max(2, min(31, round(31 - (quality - 1) * 29 / 99)))


def stream_command(
    ffmpeg: str, url: str, *, transport: str = "tcp", timeout: float = 15.0, fps: float = 5.0
) -> list[str]:
    """ffmpeg arguments for a live MJPEG re-stream of ``url`` on stdout (the preview; pure)."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error"]
    argv += ["-rtsp_transport", transport, "-timeout", str(int(timeout * 1_000_000))]
    argv += ["-analyzeduration", str(_ANALYZE_US), "-i", url, "-an", "-vf", f"fps={fps:g}"]
    argv += ["-c:v", "mjpeg", "-q:v", "5", "-f", "mpjpeg", "-boundary_tag", _STREAM_BOUNDARY]
    return [*argv, "pipe:1"]


def frame_command(
    ffmpeg: str,
    url: str,
    *,
    transport: str = "tcp",
    timeout: float = 15.0,
    quality: int | None = None,
    analyze: bool = True,
) -> list[str]:
    """The ffmpeg argument list that writes one JPEG of ``url`` to stdout (pure)."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error"]
    argv += ["-rtsp_transport", transport, "-timeout", str(int(timeout * 1_000_000))]
    if analyze:
        argv += ["-analyzeduration", str(_ANALYZE_US)]
    argv += ["-i", url, "-an", "-frames:v", "1"]
    argv += ["-f", "image2pipe", "-c:v", "mjpeg", "-q:v", str(_qscale(quality)), "pipe:1"]
    return argv


class Source(FrameSource):
    """One frame of an RTSP stream."""

    def __init__(self, camera: CameraConfig, **options: Any) -> None:
        super().__init__(camera, **options)
        host_url, user, password = split_credentials(camera.url or "")
        self.username = camera.username or user
        self.password = camera.password if camera.password is not None else password
        self._host_url = host_url
        self._live: set[subprocess.Popen[bytes]] = set()  # running preview re-streams
        self._live_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The URL ffmpeg opens, credentials included (never log it: use :attr:`safe_url`)."""
        if not self.username:
            return self._host_url
        parts = urlsplit(self._host_url)
        userinfo = quote(self.username, safe="")
        if self.password:
            userinfo += ":" + quote(self.password, safe="")
        netloc = f"{userinfo}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    @property
    def safe_url(self) -> str:
        return mask_url(self.url)

    @property
    def time_limit(self) -> float:
        return self.camera.connect_timeout + self.camera.read_timeout

    def describe(self) -> str:
        return f"rtsp camera {self.camera.name!r} at {self.safe_url}"

    def _ffmpeg(self) -> str:
        from pylapse.ffmpeg import FfmpegNotFound, find_ffmpeg

        try:
            return str(find_ffmpeg(self.ffmpeg_path).path)
        except FfmpegNotFound as exc:
            raise SourceUnavailable(f"rtsp camera {self.camera.name!r}: {exc}") from None

    def _mask(self, text: str) -> str:
        return mask_secrets(text, self.password)

    def close(self) -> None:
        """Stop any live re-stream (wakes a preview thread blocked reading it)."""
        with self._live_lock:
            processes = list(self._live)
        for process in processes:
            _kill(process)

    def iter_frames(self, stop: threading.Event | None = None) -> Iterator[bytes]:
        """Every frame of one RTSP session, re-encoded as MJPEG at :data:`PREVIEW_FPS`, for the
        live preview: one ffmpeg and one camera connection however many people watch."""
        argv = stream_command(
            self._ffmpeg(),
            self.url,
            transport=self.camera.rtsp_transport,
            timeout=self.camera.read_timeout,
            fps=PREVIEW_FPS,
        )
        where = self.safe_url
        log.debug("rtsp preview: %s", self._mask(" ".join(argv)))
        args, dies_with_us = child_argv(argv)  # the preview thread waits on it: see orphans
        try:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                **dies_with_us,
            )
        except OSError as exc:
            raise SourceUnavailable(f"{where}: cannot run ffmpeg: {exc.strerror}") from None
        with self._live_lock:
            self._live.add(process)
        parser = MultipartParser(_STREAM_BOUNDARY.encode(), self.camera.max_bytes)
        try:
            # a binary pipe with the default buffering: read1 returns what has arrived
            assert isinstance(process.stdout, io.BufferedReader)
            while stop is None or not stop.is_set():
                chunk = process.stdout.read1(65536)
                if not chunk:
                    break
                try:
                    yield from parser.feed(chunk)
                except MultipartError as exc:
                    raise GrabError(f"{where}: {exc}") from None
        finally:
            with self._live_lock:
                self._live.discard(process)
            _kill(process)
        if stop is not None and stop.is_set():
            return
        text = self._mask(
            process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
        )
        lowered = text.lower()
        raise GrabError(f"{where}: live stream ended: {_reason(lowered, text, 1, False, False)}")

    def grab(self, when: datetime | None = None) -> bytes:
        ffmpeg = self._ffmpeg()
        started = time.monotonic()
        try:
            return self._run(ffmpeg, analyze=True, limit=self.time_limit)
        except _NeedsAnalysis:
            remaining = self.time_limit - (time.monotonic() - started)
            if remaining <= 1.0:
                raise GrabError(
                    f"{self.safe_url}: ffmpeg could not read the stream's parameters in time"
                ) from None
            return self._run(ffmpeg, analyze=False, limit=remaining)

    def _run(self, ffmpeg: str, *, analyze: bool, limit: float) -> bytes:
        cam = self.camera
        argv = frame_command(
            ffmpeg,
            self.url,
            transport=cam.rtsp_transport,
            timeout=cam.read_timeout,
            quality=cam.quality,
            analyze=analyze,
        )
        where = self.safe_url
        log.debug("rtsp grab: %s", self._mask(" ".join(argv)))
        started = time.monotonic()
        try:
            result = run_tool(argv, timeout=limit)
        except ToolMissing as exc:
            raise SourceUnavailable(f"{where}: cannot run ffmpeg: {self._mask(str(exc))}") from None
        except ToolTimeout as exc:
            raise GrabError(
                f"{where}: ffmpeg {exc} without a frame (connect_timeout + read_timeout)"
            ) from None
        data = result.stdout
        if result.returncode == 0 and data.startswith(_SOI):
            return data
        text = self._mask(result.stderr)
        log.debug("rtsp grab of %s failed (exit %s): %s", where, result.returncode, text)
        lowered = text.lower()
        if analyze and any(marker in lowered for marker in _NEEDS_ANALYSIS):
            raise _NeedsAnalysis
        # ffmpeg reports its own socket timeout as "invalid data": tell them apart by the clock
        timed_out = time.monotonic() - started >= cam.read_timeout * 0.9
        reason = _reason(lowered, text, result.returncode, bool(data), timed_out)
        raise GrabError(f"{where}: {reason}")


class _NeedsAnalysis(Exception):
    """The short stream analysis was not enough; retry with ffmpeg's default."""


def _reason(lowered: str, text: str, code: int, had_output: bool, timed_out: bool) -> str:
    """A clear, already-masked reason from ffmpeg's stderr."""
    if _UNAUTHORIZED.search(lowered):
        return "the camera refused the credentials (RTSP 401 Unauthorized); check username/password"
    if _NOT_FOUND.search(lowered):
        return "no stream at this path (RTSP 404 Not Found)"
    if "connection refused" in lowered:
        return "connection refused (is the camera on and the RTSP port right?)"
    if "timed out" in lowered or "timeout" in lowered or timed_out:
        return "the camera did not answer in time (read_timeout)"
    if "invalid data found" in lowered:
        return "the server did not answer as an RTSP camera (is this the RTSP port and path?)"
    if "no route to host" in lowered or "network is unreachable" in lowered:
        return "the camera's address cannot be reached from here"
    if code == 0 and not had_output:
        return "ffmpeg finished without producing a frame (the stream sent no video?)"
    return f"ffmpeg failed with exit code {code}: {stderr_tail(text)}"


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
