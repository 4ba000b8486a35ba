"""The contract every camera source meets, and the registry that picks one by config ``type``."""

from __future__ import annotations

import importlib
import os
import re
from abc import ABC, abstractmethod
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from pylapse.config import CameraConfig

__all__ = [
    "FrameSource",
    "GrabError",
    "SourceUnavailable",
    "create_source",
    "mask_secrets",
    "mask_url",
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
    return module.Source(camera, ffmpeg_path=ffmpeg_path, data_path=data_path)


# --- keeping credentials out of logs ------------------------------------------------------------

MASK = "***"
# query parameters that carry secrets on common cameras (Foscam ?pwd=, tokens, API keys)
_SECRET_PARAMS = re.compile(
    r"^(pwd|pass|passwd|password|token|access_token|auth|apikey|api_key|key|secret|sig|signature)$",
    re.I,
)


def mask_url(url: str | None) -> str:
    """``url`` with any password in it replaced by ``***``: the one in ``user:pass@`` and the
    values of secret-looking query parameters (``pwd``, ``password``, ``token``, ...). The user
    name stays so a log still says which account was used."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            user, sep, _password = userinfo.partition(":")
            netloc = f"{user}:{MASK}@{host}" if sep else f"{user}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(_SECRET_PARAMS.match(k) for k, _ in pairs):
                masked = [(k, MASK if _SECRET_PARAMS.match(k) else v) for k, v in pairs]
                query = urlencode(masked, safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # not parseable as a URL: mask anything that looks like user:pass@
        return re.sub(r"//([^/@:]*):[^/@]*@", rf"//\1:{MASK}@", url)


def mask_secrets(text: str, *secrets: str | None) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by ``***`` (for tool
    output such as ffmpeg's stderr, which may echo a URL with its password)."""
    for secret in secrets:
        if secret:  # the password as typed and as it appears percent-encoded in a URL
            for form in {secret, quote(secret, safe="")}:
                text = text.replace(form, MASK)
    return re.sub(r"(\w+://[^/\s@:]*):[^/\s@]*@", rf"\1:{MASK}@", text)
