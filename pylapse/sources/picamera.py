"""Raspberry Pi cameras: a still through ``rpicam-still`` (``libcamera-still`` on older systems),
or through picamera2 when neither tool is installed but the library is importable.

The command-line tools come first on purpose: a camera stack that wedges (it happens after a
ribbon-cable glitch) wedges a separate process that the time limit can kill, not the scheduler.

Settings: ``capture_width``/``capture_height`` (default: the sensor's full size), ``quality``
(JPEG, default 93 like the tool), ``warmup_ms`` (time for exposure and white balance to settle
before the still; 0 captures immediately). The time limit is ``warmup_ms + connect_timeout +
read_timeout``.
"""

from __future__ import annotations

import importlib.util
import io
import shutil
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pylapse.sources.base import FrameSource, GrabError, SourceUnavailable
from pylapse.sources.process import ToolMissing, ToolTimeout, run_tool, stderr_tail

if TYPE_CHECKING:
    from pylapse.config.models import CameraConfig

__all__ = ["TOOLS", "Source", "still_command"]

TOOLS = ("rpicam-still", "libcamera-still")
DEFAULT_QUALITY = 93  # rpicam-still's own default
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


def _picamera2_available() -> bool:
    try:
        return importlib.util.find_spec("picamera2") is not None
    except (ImportError, ValueError):
        return False


class Source(FrameSource):
    """A still from the Pi camera."""

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
            text = result.stderr
            if "no cameras available" in text:
                raise SourceUnavailable(
                    f"{who}: {tool} found no camera (exit {result.returncode}: 'no cameras "
                    "available'); check the ribbon cable and that the camera is enabled "
                    "(rpicam-hello --list-cameras lists the cameras it sees)"
                )
            if "failed to acquire camera" in text:
                raise GrabError(
                    f"{who}: the camera is busy ({tool}: 'failed to acquire camera'); another "
                    "program is using it (only one may at a time)"
                )
            if result.returncode != 0:
                raise GrabError(
                    f"{who}: {tool} failed with exit code {result.returncode}: {stderr_tail(text)}"
                )
            data = output.read_bytes() if output.exists() else b""
        if not data:
            raise GrabError(f"{who}: {tool} reported success but wrote no image")
        return data

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
