"""The contract every camera source meets, and the registry that picks one by config ``type``."""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit, urlunsplit

# the masking every source applies to its messages; defined with the rest of it in pylapse.redact
from pylapse.redact import is_secret_name, userinfo_end

if TYPE_CHECKING:
    from pylapse.config.cameras import CameraConfig

__all__ = [
    "FrameSource",
    "GrabError",
    "SourceUnavailable",
    "camera_secrets",
    "create_source",
    "split_credentials",
]

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

    def __init__(
        self,
        camera: CameraConfig,
        *,
        ffmpeg_path: str | os.PathLike[str] | None = None,
        data_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.camera = camera
        # the config's top-level ffmpeg_path (resolved), used by sources that run ffmpeg
        self.ffmpeg_path = ffmpeg_path
        # the data folder; sources needing private state (gphoto2's HOME) keep it under here
        self.data_path = Path(data_path) if data_path else None

    @abstractmethod
    def grab(self, when: datetime | None = None) -> bytes:
        """Fetch one frame. ``when`` is the scheduled time (the synthetic source draws it)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most sources hold nothing open
        """Release connections or processes held between grabs."""

    def describe(self) -> str:
        """A one-line, credential-free description for logs and the dashboard."""
        return f"{self.camera.type} camera {self.camera.name!r}"


def create_source(
    camera: CameraConfig,
    *,
    ffmpeg_path: str | os.PathLike[str] | None = None,
    data_path: str | os.PathLike[str] | None = None,
) -> FrameSource:
    """The source for ``camera.type``. ``ffmpeg_path`` is the config's ``ffmpeg_path`` (resolved;
    None means the bundled one); ``data_path`` the config's data folder (None: a temp folder)."""
    try:
        module_name = _REGISTRY[camera.type]
    except KeyError:
        accepted = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"unknown camera type {camera.type!r}; accepted: {accepted}") from None
    module = importlib.import_module(f"pylapse.sources.{module_name}")
    source: FrameSource = module.Source(camera, ffmpeg_path=ffmpeg_path, data_path=data_path)
    return source


# --- credentials in URLs ------------------------------------------------------------------------


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``url`` without its ``user:pass@`` part, and the (percent-decoded) user and password.

    A password typed with ``/``, ``#`` or ``?`` unencoded (``http://admin:pa/ss@cam/...``)
    makes the standard reading end the host early (at ``admin:pa``, an invalid port); then the
    ``@`` before the real host ends the password instead (:func:`pylapse.redact.userinfo_end`).
    """
    parts = _split(url)
    if parts is not None and "@" in parts.netloc:
        userinfo, _, host = parts.netloc.rpartition("@")
        clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    else:
        scheme, sep, rest = url.partition("://")
        at = userinfo_end(rest) if sep and parts is None else -1
        if at < 0:
            return url, None, None
        userinfo, clean = rest[:at], f"{scheme}://{rest[at + 1 :]}"
    user, _, password = userinfo.partition(":")
    return clean, unquote(user) or None, unquote(password) if password else None


def _split(url: str) -> SplitResult | None:
    """``urlsplit(url)``, or None when its host and port do not parse (``admin:pa``)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        return None
    return parts


def camera_secrets(camera: CameraConfig) -> tuple[str, ...]:
    """The secret values in a camera's config, for :func:`~pylapse.redact.mask_secrets` of text
    that may echo one out of context (a tool's stderr, a camera's error page): the password, the
    one in the URL, the values of secret query parameters and of secret-named headers. Values
    shorter than 4 characters from the query or headers are left to the structural masking
    (masking every "1" of a message would garble it)."""
    found = [camera.password]
    values: list[str] = [v for k, v in camera.headers.items() if is_secret_name(k)]
    if camera.url:
        found.append(split_credentials(camera.url)[2])
        parts = _split(camera.url)
        query = parts.query if parts else ""  # unparseable: masked structurally instead
        values += [v for k, v in parse_qsl(query, keep_blank_values=True) if is_secret_name(k)]
    found += [v for v in values if len(v) >= 4]
    return tuple(dict.fromkeys(s for s in found if s))
