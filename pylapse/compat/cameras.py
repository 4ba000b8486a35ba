"""0.2's ``pyLapse.img_seq.cameras.Camera``: a snapshot URL, fetched and saved on request.

Frames come through today's HTTP source (timeouts, limits, MJPEG streams, credentials kept out
of messages) and are saved by :func:`pylapse.compat.image.save_image`, flat in the folder given,
named as 0.2 named them.
"""

from __future__ import annotations

import os
import re
from typing import Any

from PIL import Image

from pylapse import timeutil
from pylapse.compat.image import fetch, save_image
from pylapse.redact import mask_url

__all__ = ["Camera", "is_image_url"]

_IMAGE_URL = re.compile(r"https?://[^\s\"']+", re.IGNORECASE)


def is_image_url(url: str) -> bool:
    """Whether ``url`` is an HTTP(S) URL, 0.2's test of a camera URL."""
    return isinstance(url, str) and _IMAGE_URL.match(url) is not None


class Camera:
    """A camera serving still images over HTTP: ``Camera(name, image_url, location=None)``."""

    def __init__(self, name: str, image_url: str, location: str | None = None) -> None:
        self.name = name
        self.imageurl = image_url
        self.location = location

    @property
    def imageurl(self) -> str:
        """The image URL; setting one that is not an HTTP(S) URL raises ``ValueError``."""
        return self._image_url

    @imageurl.setter
    def imageurl(self, value: str) -> None:
        if not is_image_url(value):
            raise ValueError(f"{mask_url(str(value))!r} does not appear to be an image URL")
        self._image_url = value

    def __repr__(self) -> str:
        return f"<Camera: {self.name}>"

    def __str__(self) -> str:
        # 0.2 printed the URL with its password; the user:password part is masked here
        return f"Camera: {self.name} {mask_url(self._image_url)}"

    def fetch_image(self) -> Image.Image:
        """The camera's current image (a PIL image)."""
        return fetch(self.imageurl)

    def save_image(self, outputdir: str | os.PathLike[str], **kwargs: Any) -> str:
        """Fetch the current image and save it into ``outputdir`` (flat, as 0.2 did), named
        ``{prefix}{%Y-%m-%dT%H-%M-%S}.jpg`` by default; ``kwargs`` are
        :func:`~pylapse.compat.image.save_image`'s. Returns ``"Saved <path>"``."""
        image = self.fetch_image()
        return save_image(image, outputdir, timeutil.now(), **kwargs)
