"""Raspberry Pi cameras: a still through ``rpicam-still`` (``libcamera-still`` on older systems),
or through picamera2 when neither tool is installed but the library is importable.

The command-line tools come first on purpose: a camera stack that wedges (it happens after a
ribbon-cable glitch) wedges a separate process that the time limit can kill, not the scheduler.

A camera with a schedule faster than :data:`KEEP_OPEN_BELOW` seconds (``interval_amount: 0.5``,
``interval_unit: seconds``) keeps the camera open: every still from a fresh ``rpicam-still``
pays the camera's start-up and exposure settling (1-2 s on a Pi), so a 1-second schedule could
not keep up. One ``rpicam-still`` then runs in its signal mode (``-s -t 0``): SIGUSR1 takes a
still, written under a frame-numbered name, and ``--latest`` points a link at it once it is
complete, which is how a grab knows it is done. The tool stays a separate process in its own
group: one that dies is restarted by the next grab, one that gives no still within the time
limit is killed (with everything it started) and restarted by the next grab.

Settings: ``capture_width``/``capture_height`` (default: the sensor's full size), ``quality``
(JPEG, default 93 like the tool), ``warmup_ms`` (time for exposure and white balance to settle
before the still; 0 captures immediately). The time limit is ``warmup_ms + connect_timeout +
read_timeout``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pylapse.sources.base import FrameSource, GrabError, SourceUnavailable
from pylapse.sources.process import (
    ToolMissing,
    ToolSession,
    ToolTimeout,
    run_tool,
    stderr_tail,
)

if TYPE_CHECKING:
    from pylapse.config.cameras import CameraConfig

__all__ = ["KEEP_OPEN_BELOW", "TOOLS", "Source", "keeps_open", "session_command", "still_command"]

TOOLS = ("rpicam-still", "libcamera-still")
DEFAULT_QUALITY = 93  # rpicam-still's own default
log = logging.getLogger(__name__)
KEEP_OPEN_BELOW = 5.0  # seconds between stills under which the camera is kept open
# libcamera logs this when the tool configures its viewfinder, after rpicam-still has set its
# SIGUSR1 handler (before, SIGUSR1's default action would end it)
_READY = "configuring streams"
_POLL = 0.005  # seconds between looks at the --latest link
# one still at a time per process: libcamera lets one client hold the camera, so a capture and
# the live preview would otherwise fail each other with "failed to acquire camera"
_CAMERA_LOCK = threading.Lock()


def still_command(tool: str, output: str, camera: CameraConfig) -> list[str]:
    """The argument list for one still (pure, for tests and for the docs)."""
    argv = [tool, "-n", "-o", output, "--encoding", "jpg"]
    argv += ["-q", str(camera.quality or DEFAULT_QUALITY)]
    if camera.capture_width:
        argv += ["--width", str(camera.capture_width)]
    if camera.capture_height:
        argv += ["--height", str(camera.capture_height)]
    # -t 0 means "run for ever" to rpicam-still, so no warm-up is spelled --immediate
    argv += ["-t", str(camera.warmup_ms)] if camera.warmup_ms > 0 else ["--immediate"]
    return argv


def keeps_open(camera: CameraConfig) -> bool:
    """Whether an enabled interval schedule of ``camera`` is faster than
    :data:`KEEP_OPEN_BELOW` seconds (cron schedules fire at most once a second and keep the
    one-process-per-still default)."""
    return any(
        s.enabled and (s.interval_seconds() or KEEP_OPEN_BELOW) < KEEP_OPEN_BELOW
        for s in camera.schedules
    )


def session_command(tool: str, folder: str, camera: CameraConfig) -> list[str]:
    """The argument list of a kept-open camera (pure): signal mode, no time-out, frame-numbered
    stills in ``folder`` and a ``latest.jpg`` link to each finished one."""
    argv = [tool, "-n", "-t", "0", "-s", "--encoding", "jpg"]
    argv += ["-q", str(camera.quality or DEFAULT_QUALITY)]
    if camera.capture_width:
        argv += ["--width", str(camera.capture_width)]
    if camera.capture_height:
        argv += ["--height", str(camera.capture_height)]
    return [*argv, "-o", os.path.join(folder, "still%06d.jpg"),
            "--latest", os.path.join(folder, "latest.jpg")]  # fmt: skip


def _link_target(link: Path) -> str | None:
    with contextlib.suppress(OSError):
        return os.readlink(link)
    return None


def _picamera2_available() -> bool:
    try:
        return importlib.util.find_spec("picamera2") is not None
    except (ImportError, ValueError):
        return False


class Source(FrameSource):
    """A still from the Pi camera."""

    _session: ToolSession | None = None
    _session_dir: Path | None = None

    @property
    def time_limit(self) -> float:
        cam = self.camera
        return cam.warmup_ms / 1000.0 + cam.connect_timeout + cam.read_timeout

    def describe(self) -> str:
        return f"Pi camera {self.camera.name!r}"

    def grab(self, when: datetime | None = None) -> bytes:
        for tool in TOOLS:
            path = shutil.which(tool)
            if path:
                if not _CAMERA_LOCK.acquire(timeout=self.time_limit):
                    raise GrabError(
                        f"Pi camera {self.camera.name!r}: another still is still being taken"
                    )
                try:
                    if keeps_open(self.camera):
                        return self._grab_kept_open(tool, path)
                    return self._grab_with_tool(tool, path)
                finally:
                    _CAMERA_LOCK.release()
        if _picamera2_available():
            return self._grab_with_picamera2()
        raise SourceUnavailable(
            f"Pi camera {self.camera.name!r}: neither rpicam-still nor libcamera-still is "
            "installed and picamera2 is not importable (on Raspberry Pi OS: "
            "sudo apt install rpicam-apps, or python3-picamera2)"
        )

    def _grab_with_tool(self, tool: str, path: str) -> bytes:
        who = f"Pi camera {self.camera.name!r}"
        with tempfile.TemporaryDirectory(prefix="pylapse-picamera-") as folder:
            output = Path(folder) / "still.jpg"
            argv = still_command(path, str(output), self.camera)
            try:
                result = run_tool(argv, timeout=self.time_limit)
            except ToolMissing as exc:
                raise SourceUnavailable(f"{who}: cannot run {tool}: {exc}") from None
            except ToolTimeout as exc:
                raise GrabError(f"{who}: {tool} {exc} (warmup_ms + timeouts)") from None
            if result.returncode != 0 or "failed to acquire camera" in result.stderr:
                raise self._tool_failure(tool, result.stderr, result.returncode)
            data = output.read_bytes() if output.exists() else b""
        if not data:
            raise GrabError(f"{who}: {tool} reported success but wrote no image")
        return data

    def _grab_kept_open(self, tool: str, path: str) -> bytes:
        who = f"Pi camera {self.camera.name!r}"
        session = self._session
        if session is not None and not session.alive:
            # it died between stills (a camera stack crash): logged, and started afresh now
            log.warning("%s: %s (kept open) had ended with exit code %s: %s; restarting it",
                        who, tool, session.returncode, stderr_tail(session.stderr()))  # fmt: skip
            self._end_session()
            session = None
        if session is None:
            session = self._open_session(tool, path)
        folder = self._session_dir
        assert folder is not None  # set with the session
        latest = folder / "latest.jpg"
        before = _link_target(latest)
        session.signal(signal.SIGUSR1)
        limit = self.camera.connect_timeout + self.camera.read_timeout
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            target = _link_target(latest)
            if target is not None and target != before:
                still = Path(target)
                data = still.read_bytes()
                still.unlink(missing_ok=True)
                if not data:
                    raise GrabError(f"{who}: {tool} reported a still but wrote no image")
                return data
            if not session.alive:
                tail = stderr_tail(session.stderr())
                self._end_session()
                raise GrabError(f"{who}: {tool} (kept open) ended with exit code "
                                f"{session.returncode} during a still: {tail}")  # fmt: skip
            time.sleep(_POLL)
        self._end_session()  # wedged: killed with everything it started; the next grab restarts
        raise GrabError(
            f"{who}: {tool} (kept open) gave no still within {limit:g} s "
            "(connect_timeout + read_timeout); it was stopped and will restart"
        )

    def _open_session(self, tool: str, path: str) -> ToolSession:
        """Start the kept-open tool and wait until it takes signals, then ``warmup_ms`` for the
        exposure to settle (once per session, not per still)."""
        who = f"Pi camera {self.camera.name!r}"
        folder = Path(tempfile.mkdtemp(prefix="pylapse-picamera-"))
        argv = session_command(path, str(folder), self.camera)
        try:
            session = ToolSession(argv, folder / "stderr.txt")
        except ToolMissing as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise SourceUnavailable(f"{who}: cannot run {tool}: {exc}") from None
        self._session, self._session_dir = session, folder
        deadline = time.monotonic() + self.time_limit
        while time.monotonic() < deadline:
            text = session.stderr()
            if _READY in text:
                time.sleep(self.camera.warmup_ms / 1000.0)
                return session
            if not session.alive:
                self._end_session()
                raise self._tool_failure(tool, text, session.returncode)
            time.sleep(0.02)
        self._end_session()
        raise GrabError(f"{who}: {tool} did not open the camera within {self.time_limit:g} s "
                        "(warmup_ms + timeouts) and was stopped")  # fmt: skip

    def _tool_failure(self, tool: str, text: str, code: int | None) -> GrabError:
        who = f"Pi camera {self.camera.name!r}"
        if "no cameras available" in text:
            return SourceUnavailable(
                f"{who}: {tool} found no camera (exit {code}: 'no cameras available'); check "
                "the ribbon cable and that the camera is enabled (rpicam-hello --list-cameras "
                "lists the cameras it sees)"
            )
        if "failed to acquire camera" in text:
            return GrabError(
                f"{who}: the camera is busy ({tool}: 'failed to acquire camera'); another "
                "program is using it (only one may at a time)"
            )
        return GrabError(f"{who}: {tool} failed with exit code {code}: {stderr_tail(text)}")

    def _end_session(self) -> None:
        session, folder = self._session, self._session_dir
        self._session = self._session_dir = None
        if session is not None:
            session.stop(grace=1.0, polite=signal.SIGUSR2)  # SIGUSR2: rpicam-still's "quit"
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """Let a kept-open camera go (a camera retired or reconfigured, pyLapse stopping)."""
        # a grab in progress holds the lock for up to its time limit; shutdown does not wait
        # that long: the tool is stopped anyway, and that grab fails at once as it dies
        locked = _CAMERA_LOCK.acquire(timeout=1.0)
        try:
            self._end_session()
        finally:
            if locked:
                _CAMERA_LOCK.release()

    def _grab_with_picamera2(self) -> bytes:  # pragma: no cover - needs a Pi with a camera
        who = f"Pi camera {self.camera.name!r}"
        cam = self.camera
        from picamera2 import Picamera2

        with _CAMERA_LOCK:
            try:
                picam = Picamera2()
            except (IndexError, RuntimeError) as exc:  # IndexError: no cameras attached
                raise SourceUnavailable(f"{who}: picamera2 found no camera ({exc})") from None
            try:
                main = {}
                if cam.capture_width and cam.capture_height:
                    main["size"] = (cam.capture_width, cam.capture_height)
                picam.configure(picam.create_still_configuration(main=main))
                picam.options["quality"] = cam.quality or DEFAULT_QUALITY
                picam.start()
                time.sleep(cam.warmup_ms / 1000.0)
                out = io.BytesIO()
                picam.capture_file(out, format="jpeg")
                return out.getvalue()
            except Exception as exc:
                raise GrabError(f"{who}: picamera2 failed: {exc}") from None
            finally:
                picam.close()
