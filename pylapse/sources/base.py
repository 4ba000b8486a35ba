"""The contract every camera source meets, and the registry that picks one by config ``type``."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pylapse.config import CameraConfig

__all__ = ["FrameSource", "GrabError", "SourceUnavailable", "create_source"]

# config `type` -> module under pylapse.sources defining a FrameSource subclass named `Source`
_REGISTRY = {
    "http": "http",
    "mjpeg": "mjpeg",
    "rtsp": "rtsp",
    "picamera": "picamera",
    "gphoto2": "gphoto2",
    "synthetic": "synthetic",
}


class GrabError(Exception):
    """One capture attempt failed; the message is safe to log (credentials masked)."""


class SourceUnavailable(GrabError):
    """The source cannot work on this machine as configured (tool missing, no camera found)."""


class FrameSource(ABC):
    """Produces the bytes of one encoded image (JPEG or PNG) per call to :meth:`grab`.

    Sources only fetch bytes: validation, resizing, naming and saving are the caller's
    (:mod:`pylapse.capture`). A source must honour its own timeouts so one camera can never
    hold up another, and must never put a password in an exception message.
    """

    def __init__(self, camera: CameraConfig) -> None:
        self.camera = camera

    @abstractmethod
    def grab(self, when: datetime | None = None) -> bytes:
        """Fetch one frame. ``when`` is the scheduled time (the synthetic source draws it)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most sources hold nothing open
        """Release connections or processes held between grabs."""

    def describe(self) -> str:
        """A one-line, credential-free description for logs and the dashboard."""
        return f"{self.camera.type} camera {self.camera.name!r}"


def create_source(camera: CameraConfig) -> FrameSource:
    """The source for ``camera.type``."""
    try:
        module_name = _REGISTRY[camera.type]
    except KeyError:
        accepted = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"unknown camera type {camera.type!r}; accepted: {accepted}") from None
    module = importlib.import_module(f"pylapse.sources.{module_name}")
    return module.Source(camera)
