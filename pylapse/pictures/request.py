"""What a picture is made of and what it gives: the request (kind, day or days, options), the
collection shape it reads (:class:`PictureSource`) and the made :class:`Picture` with its
manifest."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Protocol

from PIL import Image

from pylapse.pictures.frames import check_scale
from pylapse.pictures.kinds import ONE_DAY_KINDS, PictureError, PictureKind
from pylapse.pictures.manifest import SavedPicture, save_picture
from pylapse.selection.selection import Selection

__all__ = ["Picture", "PictureRequest", "PictureSource"]


class PictureSource(Protocol):
    """What a picture needs of a collection (``pylapse.collection.Collection`` has it)."""

    key: str
    zone: tzinfo

    @property
    def index(self) -> Any: ...

    def slot_grid(
        self,
        width: timedelta | float = ...,
        *,
        origin: datetime | float = ...,
        date_from: date | datetime | str | None = ...,
        date_to: date | datetime | str | None = ...,
    ) -> Selection: ...

    def select(
        self,
        *,
        date_from: date | datetime | str | None = ...,
        date_to: date | datetime | str | None = ...,
    ) -> Selection: ...


@dataclass(frozen=True, slots=True)
class PictureRequest:
    """What to make. ``day`` for the one-day kinds; ``date_from``/``date_to`` for the colour
    map. ``row``/``column``: the line a daystrip/keogram takes (full-size pixels; default the
    middle). ``scale``: decode at 1/1, 1/2, 1/4 or 1/8. ``slot_width``: seconds per slot (None:
    the typical spacing of the day's frames). ``latitude``/``longitude``: for the night window."""

    kind: PictureKind
    day: date | None = None
    date_from: date | None = None
    date_to: date | None = None
    row: int | None = None
    column: int | None = None
    scale: int = 1
    slot_width: float | None = None
    negative: bool = False
    stat: str = "mean"
    latitude: float | None = None
    longitude: float | None = None
    workers: int | None = field(default=None, compare=False)

    def checked(self) -> PictureRequest:
        """This request with its kind as the enum, or :class:`PictureError` naming the field."""
        try:
            kind = PictureKind(self.kind)
        except ValueError:
            names = ", ".join(k.value for k in PictureKind)
            raise PictureError(f"kind: {self.kind!r} is not one of {names}") from None
        check_scale(self.scale)
        if kind in ONE_DAY_KINDS and self.day is None:
            raise PictureError(f"a {kind} needs a day (date)")
        if kind is PictureKind.COLORMAP and (self.date_from is None or self.date_to is None):
            raise PictureError("a colormap needs date_from and date_to")
        if self.slot_width is not None and not self.slot_width > 0:
            raise PictureError(f"slot_width: {self.slot_width!r} must be more than 0 seconds")
        return replace(self, kind=kind)

    def parameters(self) -> dict[str, Any]:
        """The request as plain data for a manifest or a job's parameters."""
        out = asdict(self)
        out.pop("workers")
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in out.items()}

    @classmethod
    def from_parameters(cls, data: Mapping[str, Any]) -> PictureRequest:
        """The request :meth:`parameters` gave (a Celery task's argument), checked."""
        dates = ("day", "date_from", "date_to")
        values: dict[str, Any] = {
            k: date.fromisoformat(v) if k in dates and v is not None else v for k, v in data.items()
        }
        return cls(**values).checked()


@dataclass(slots=True)
class Picture:
    """A made picture and its manifest (what :func:`pylapse.pictures.manifest.save_picture`
    writes beside it)."""

    image: Image.Image
    manifest: dict[str, Any]
    #: other versions saved beside the picture as ``STEM-NAME.EXT`` (the colour map's 1920x1080)
    variants: dict[str, Image.Image] = field(default_factory=dict)

    def save(self, output: str | os.PathLike[str], *, thumbnail: bool = False) -> SavedPicture:
        """Save the picture, its variants and its manifest (see :func:`save_picture`)."""
        return save_picture(
            self.image, output, self.manifest, thumbnail=thumbnail, variants=self.variants
        )
