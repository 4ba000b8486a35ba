"""DSLRs and mirrorless cameras over USB through the ``gphoto2`` command-line tool.

One frame is ``gphoto2 --capture-image-and-download --filename F --force-overwrite``, plus
``--camera MODEL`` / ``--port PORT`` when configured (needed with more than one camera attached).

gphoto2 writes its settings to ``$HOME/.gphoto``; pyLapse runs it with ``HOME`` pointed at a
private folder (``<data folder>/gphoto2``, or a per-user temp folder without a data folder) so a
service account with a read-only or missing home works and the user's own settings are untouched.
Messages are read in the C locale, so "No camera found" and "Could not claim the USB device"
are recognised on any system language.

Two grabs of the same camera in one process (a capture and the live preview) take turns: the USB
device can only be claimed once, and the second would otherwise fail as "busy".
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pylapse.sources.base import FrameSource, GrabError, SourceUnavailable
from pylapse.sources.process import ToolMissing, ToolTimeout, run_tool, stderr_tail

if TYPE_CHECKING:
    from pylapse.config.cameras import CameraConfig

__all__ = ["Source", "capture_command"]

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_locks: dict[tuple[str | None, str | None], threading.Lock] = {}
_locks_guard = threading.Lock()


def capture_command(gphoto2: str, filename: str, camera: CameraConfig) -> list[str]:
    """The argument list for one capture (pure)."""
    argv = [gphoto2, "--capture-image-and-download", "--filename", filename, "--force-overwrite"]
    if camera.gphoto2_camera:
        argv += ["--camera", camera.gphoto2_camera]
    if camera.gphoto2_port:
        argv += ["--port", camera.gphoto2_port]
    return argv


def _device_lock(camera: CameraConfig) -> threading.Lock:
    key = (camera.gphoto2_camera, camera.gphoto2_port)
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


class Source(FrameSource):
    """A still from a USB camera through gphoto2."""

    @property
    def time_limit(self) -> float:
        """Seconds one capture may take (autofocus and download included)."""
        return self.camera.connect_timeout + self.camera.read_timeout

    def describe(self) -> str:
        model = f" ({self.camera.gphoto2_camera})" if self.camera.gphoto2_camera else ""
        return f"gphoto2 camera {self.camera.name!r}{model}"

    def home(self) -> Path:
        """The private HOME gphoto2 runs with (created, mode 0700)."""
        if self.data_path is not None:
            folder = self.data_path / "gphoto2"
        else:
            uid = os.getuid() if hasattr(os, "getuid") else "user"
            folder = Path(tempfile.gettempdir()) / f"pylapse-gphoto2-{uid}"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(HOME=str(self.home()), LC_ALL="C", LANG="C", LANGUAGE="C")
        return env

    def preview_frame(self) -> bytes:
        """A live-view frame (``--capture-preview``): for the live preview, which must not fire
        the shutter once a second."""
        return self._locked(preview=True)

    def grab(self, when: datetime | None = None) -> bytes:
        return self._locked(preview=False)

    def _locked(self, *, preview: bool) -> bytes:
        who = f"gphoto2 camera {self.camera.name!r}"
        exe = shutil.which("gphoto2")
        if exe is None:
            raise SourceUnavailable(
                f"{who}: the gphoto2 tool is not installed (Debian/Raspberry Pi OS: "
                "sudo apt install gphoto2)"
            )
        lock = _device_lock(self.camera)
        if not lock.acquire(timeout=self.time_limit):
            raise GrabError(f"{who}: another capture of this camera is still running")
        try:
            return self._capture(exe, who, preview)
        finally:
            lock.release()

    def _capture(self, exe: str, who: str, preview: bool = False) -> bytes:
        with tempfile.TemporaryDirectory(prefix="pylapse-gphoto2-") as folder:
            # %C is gphoto2's "suffix of the file on the camera": RAW+JPEG gives frame.jpg too
            target = str(Path(folder) / "frame.%C")
            argv = capture_command(exe, target, self.camera)
            if preview:
                argv[1] = "--capture-preview"
            try:
                result = run_tool(argv, timeout=self.time_limit, env=self._env(), cwd=folder)
            except ToolMissing as exc:
                raise SourceUnavailable(f"{who}: cannot run gphoto2: {exc}") from None
            except ToolTimeout as exc:
                raise GrabError(f"{who}: gphoto2 {exc} (connect_timeout + read_timeout)") from None
            if result.returncode != 0:
                raise self._failure(who, result.returncode, result.stderr)
            return self._pick_image(who, Path(folder))

    def _failure(self, who: str, code: int, stderr: str) -> GrabError:
        text = stderr
        if "No camera found" in text:
            which = ""
            if self.camera.gphoto2_camera or self.camera.gphoto2_port:
                parts = [self.camera.gphoto2_camera, self.camera.gphoto2_port]
                which = " matching " + " at ".join(p for p in parts if p)
            return SourceUnavailable(
                f"{who}: gphoto2 found no camera{which} ('No camera found'); check it is on, "
                "connected by USB and not asleep (gphoto2 --auto-detect lists what it sees)"
            )
        if "Could not claim the USB device" in text or "resource busy" in text:
            return GrabError(
                f"{who}: the camera is busy ('Could not claim the USB device'): another program "
                "holds it, often the desktop's gvfs-gphoto2-volume-monitor or a file manager"
            )
        if re.search(r"port you specified .* can not be found", text, re.S):
            return SourceUnavailable(
                f"{who}: gphoto2 cannot find port {self.camera.gphoto2_port!r} "
                "(gphoto2 --auto-detect shows the current one; USB ports change on re-plug)"
            )
        return GrabError(f"{who}: gphoto2 failed with exit code {code}: {_error_lines(text)}")

    def _pick_image(self, who: str, folder: Path) -> bytes:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.stat().st_size > 0)
        for path in files:
            if path.suffix.lower() in _IMAGE_SUFFIXES:
                return path.read_bytes()
        if files:
            kinds = ", ".join(p.suffix or p.name for p in files)
            raise GrabError(
                f"{who}: the camera saved no JPEG (got {kinds}); set its image quality to "
                "JPEG or RAW+JPEG"
            )
        raise GrabError(f"{who}: gphoto2 reported success but downloaded no file")


def _error_lines(text: str) -> str:
    """gphoto2's own ``*** Error ... ***`` lines, without its long debugging advice."""
    errors = [line.strip() for line in text.splitlines() if line.strip().startswith("*** Error")]
    return " | ".join(errors) if errors else stderr_tail(text)
