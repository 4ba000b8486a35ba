"""0.2's ``pyLapse.img_seq.image``: ``ImageSet``, ``imageset_load``, ``ImageIO``, ``save_image``.

An ``ImageSet`` is a folder's frames read through the frame index (a private one in the cache
folder, as for any ``Collection``), shown as 0.2's ``{day: {path: time}}`` index of naive
wall-clock times. ``ImageIO.write_imageset`` and ``save_image`` write through the export engine
and ``storage.atomic_write``: a reader never sees half a file, and nothing else in the output
folder is deleted or replaced.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PIL import Image

from pylapse import storage, timeutil
from pylapse.compat.engine import V02Collection, v02_options
from pylapse.export.options import from_v02
from pylapse.imaging.overlay import Placement, TimestampOverlay
from pylapse.progress import Progress

__all__ = ["ImageIO", "ImageSet", "fetch", "imageset_load", "save_image"]

LegacyCallback = Callable[[int, int, str], None]
ImageIndex = dict[str, dict[str, datetime]]

_DATE_SOURCES = {"filename": "filename", "created": "mtime"}  # 0.2's names -> the index's
_DEFAULT_FORMAT = "%Y-%m-%d %I:%M:%S %p"


def imageset_load(
    inputdir: str | os.PathLike[str],
    ext: str = "jpg",
    mask: str = "*",
    filematch: re.Pattern[str] | None = None,
    date_source: str = "filename",
    progress_callback: LegacyCallback | None = None,
) -> ImageSet:
    """The frames in ``inputdir`` (0.2: files ``{mask}.{ext}`` with a date in their name, or
    with ``date_source="created"`` their file time), as an :class:`ImageSet`."""
    return ImageSet(date_source=date_source).import_folder(
        inputdir, ext, mask, filematch, progress_callback=progress_callback
    )


class ImageSet:
    """Frames of a folder grouped by day: ``imageindex`` is ``{"YYYY-MM-DD": {path: time}}``
    (naive wall clock), with ``images``, ``imagecount``, ``days`` and ``get_day_files``."""

    def __init__(self, date_source: str = "filename") -> None:
        if date_source not in _DATE_SOURCES:
            raise ValueError(
                f"date_source must be one of {', '.join(_DATE_SOURCES)}, got {date_source!r}"
            )
        self.imageindex: ImageIndex = {}
        self.images: list[str] = []
        self.imagecount = 0
        self.inputdir: str | None = None
        self.filematch: re.Pattern[str] | None = None
        self.filtered_images: list[str] = []
        self.filtered_images_index: ImageIndex = {}
        self._date_source = date_source
        self._collection: V02Collection | None = None

    @classmethod
    def of(cls, collection: V02Collection) -> ImageSet:
        """The image set of an existing collection (``Collection.images``)."""
        images = cls()
        images._collection = collection
        images.inputdir = str(collection.collection_dir)
        images.refresh_folder()
        return images

    @property
    def collection(self) -> V02Collection:
        """The collection (folder + index) behind this set; exports run on it."""
        if self._collection is None:
            raise ValueError("this ImageSet has no folder yet: call import_folder(inputdir)")
        return self._collection

    def __str__(self) -> str:
        return f"ImageSet({self.inputdir})"

    def __repr__(self) -> str:
        return f"<ImageSet: {self.inputdir!r} ({self.imagecount} images)>"

    def import_folder(
        self,
        inputdir: str | os.PathLike[str],
        ext: str = "jpg",
        mask: str = "*",
        filematch: re.Pattern[str] | None = None,
        progress_callback: LegacyCallback | None = None,
    ) -> ImageSet:
        """Index ``inputdir`` (incrementally: a second load re-reads nothing unchanged)."""
        folder = Path(inputdir)
        self._collection = V02Collection(
            folder.name or str(folder),
            None,
            folder,
            ext,
            mask,
            filematch,
            date_source=_DATE_SOURCES[self._date_source],
        )
        self.inputdir, self.filematch = str(inputdir), filematch
        self.refresh_folder(progress_callback)
        return self

    def refresh_folder(self, progress_callback: LegacyCallback | None = None) -> None:
        """Pick up frames added to (or removed from) the folder since it was loaded."""
        coll = self.collection

        def report(p: Progress) -> None:
            if progress_callback is not None:
                progress_callback(p.done, p.total, p.message or "Indexing filenames")

        coll.refresh(report if progress_callback else None)
        index: ImageIndex = {}
        for frame in coll.select().iter_frames():
            when = frame.time.replace(tzinfo=None)
            index.setdefault(f"{when:%Y-%m-%d}", {})[str(frame.path)] = when
        self.imageindex = index
        self.images = sorted(p for day in index.values() for p in day)
        self.imagecount = len(self.images)

    @property
    def days(self) -> list[str]:
        """The days that have frames, ``"YYYY-MM-DD"``, in order."""
        return sorted(self.imageindex)

    def get_day_files(self, day: str | int) -> dict[str, datetime]:
        """``{path: time}`` of one day, by ``"YYYY-MM-DD"`` or by position in :attr:`days`."""
        if isinstance(day, bool) or not isinstance(day, str | int):
            raise TypeError("day must be a string or int")
        if isinstance(day, int):
            return self.imageindex[self.days[day]]
        if day not in self.imageindex:
            raise KeyError(f"Day '{day}' not found in image index: {self.days}")
        return self.imageindex[day]

    def filter_index(self, files: list[str]) -> ImageIndex:
        """The part of :attr:`imageindex` holding ``files``."""
        wanted = {os.path.normpath(f) for f in files}
        out: ImageIndex = {}
        for day, entries in self.imageindex.items():
            kept = {p: t for p, t in entries.items() if os.path.normpath(p) in wanted}
            if kept:
                out[day] = kept
        return out

    def filter_images(
        self,
        hourlist: list[int] | None = None,
        minutelist: list[int] | None = None,
        fuzzy: int = 5,
    ) -> None:
        """Per day, the frame nearest each ``hour:minute`` (within ``fuzzy`` minutes) into
        ``filtered_images`` and ``filtered_images_index``."""
        wanted = hourlist if hourlist is not None else range(24)
        hours = ",".join(str(h) for h in sorted(set(wanted)))
        minutes = ",".join(str(m) for m in sorted(set(minutelist or [0])))
        chosen = self.collection.select(hour=hours, minute=minutes, tolerance=fuzzy * 60)
        self.filtered_images = sorted(str(f.path) for f in chosen.iter_frames())
        self.filtered_images_index = self.filter_index(self.filtered_images)


def fetch(url: str, timeout: float = 10) -> Image.Image:
    """The image ``url`` serves now, decoded (a snapshot, or an MJPEG stream's first frame)."""
    from pylapse.capture.camera import Camera as EngineCamera
    from pylapse.config.cameras import CameraConfig

    config = CameraConfig(
        name="camera",
        url=url,
        type="http",
        output_dir=".",
        connect_timeout=timeout,
        read_timeout=timeout,
    )
    camera = EngineCamera("camera", config=config)
    try:
        data = camera.grab().data
    finally:
        camera.close()
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _flatten(imageset: ImageIndex) -> list[tuple[str, datetime]]:
    return sorted(
        ((path, when) for day in imageset.values() for path, when in day.items()),
        key=lambda item: item[1],
    )


class ImageIO:
    """0.2's batch writer. ``workers`` (default: the machine's cores) processes write frames."""

    def __init__(self, workers: int | None = None, debug: bool = False) -> None:
        self.workers = workers
        self.debug = debug

    def write_imageset(
        self,
        imageset: ImageIndex,
        outputdir: str | os.PathLike[str],
        resize: bool = True,
        quality: int = 50,
        optimize: bool = False,
        resolution: tuple[int, int] = (1920, 1080),
        keep_aspect: bool = True,
        drawtimestamp: bool = False,
        timestampformat: str | None = None,
        timestampfontsize: int = 36,
        timestampcolor: tuple[int, int, int] = (255, 255, 255),
        timestamppos: tuple[int, int] = (0, 0),
        timestampfont: str | None = None,
        prefix: str = "",
        zeropadding: int = 5,
        ext: str = "jpg",
        timestamp_source_tz: str = "",
        timestamp_display_tz: str = "",
        progress_callback: LegacyCallback | None = None,
    ) -> None:
        """Write the frames of a ``{day: {path: time}}`` index into ``outputdir`` in time order,
        named ``"{prefix} {NNNNN}.{ext}"`` (``prefix`` default: the folder's name). Naive times
        are wall clock in ``timestamp_source_tz`` (default: this machine's zone); the stamp shows
        them in ``timestamp_display_tz`` when given."""
        from pylapse.export.run import run_export

        writer = {
            "resize": resize,
            "quality": quality,
            "optimize": optimize,
            "resolution": resolution,
            "keep_aspect": keep_aspect,
            "drawtimestamp": drawtimestamp,
            "timestampformat": timestampformat,
            "timestampfontsize": timestampfontsize,
            "timestampcolor": timestampcolor,
            "timestamppos": timestamppos,
            "timestampfont": timestampfont,
            "prefix": prefix,
            "zeropadding": zeropadding,
            "ext": ext,
            "timestamp_display_tz": timestamp_display_tz or None,
            "workers": self.workers or os.cpu_count() or 1,
        }
        options = v02_options(writer, outputdir)
        zone = timeutil.zone(timestamp_source_tz or None)
        frames = [
            (path, when if when.tzinfo else timeutil.localize(when, zone))
            for path, when in _flatten(imageset)
        ]

        def report(p: Progress) -> None:
            if progress_callback is not None and p.stage == "process":
                progress_callback(p.done, p.total, "")

        run_export(frames, outputdir, options, report)

    @staticmethod
    def fetch_image_from_url(url: str, timeout: int = 10) -> Image.Image:
        """The image a camera URL serves now (a snapshot, or an MJPEG stream's first frame)."""
        return fetch(url, timeout)

    @staticmethod
    def timestamp_image(
        imageobj: Image.Image,
        datetimestamp: datetime,
        font: str | None = None,
        timestampformat: str | None = None,
        pos: tuple[int, int] = (0, 0),
        color: tuple[int, int, int] = (255, 255, 255),
        size: int = 72,
    ) -> Image.Image:
        """Draw ``datetimestamp`` on ``imageobj`` (in place; returned too): plain text of
        ``size`` pixels at ``pos`` from the top-left corner, as 0.2 drew it."""
        fields = from_v02({"timestampcolor": color, "timestampfont": font, "timestamppos": pos})
        when = datetimestamp
        if when.tzinfo is None:
            when = timeutil.localize(when, timeutil.zone(None))
        overlay = TimestampOverlay(
            format=timestampformat or _DEFAULT_FORMAT,
            font=fields.get("font"),
            size=min(0.5, max(0.005, size / max(imageobj.height, 1))),
            color=fields["font_color"],
            backdrop="none",  # type: ignore[arg-type]
            placement=Placement("top-left", pos, 0.0),  # type: ignore[arg-type]
        )
        overlay.apply(imageobj, when)
        return imageobj


def _tz_offset(when: datetime) -> str:
    """``+09.00``: the offset as 0.2 (and today's default names) write it in file names."""
    raw = when.strftime("%z")
    return f"{raw[:3]}.{raw[3:5]}" if len(raw) >= 5 else raw


def save_image(
    image: Image.Image,
    outputdir: str | os.PathLike[str],
    timestamp: datetime,
    ext: str = "jpg",
    resize: bool = False,
    quality: int = 50,
    optimize: bool = False,
    resolution: tuple[int, int] = (1920, 1080),
    keep_aspect: bool = True,
    drawtimestamp: bool = False,
    timestampformat: str | None = None,
    filenameformat: str | None = None,
    timestampfontsize: int = 36,
    timestampcolor: tuple[int, int, int] = (255, 255, 255),
    timestamppos: tuple[int, int] = (0, 0),
    timestampfont: str | None = None,
    prefix: str = "",
    zeropadding: int = 5,
    timezone: str = "",
) -> str:
    """Save ``image`` into ``outputdir`` named for ``timestamp``; returns ``"Saved <path>"``.

    The default name is ``{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}.{ext}``, with the offset
    (``+09.00``) before the extension when ``timezone`` (an IANA name) shifts the time to that
    zone; ``filenameformat`` may use ``{prefix} {timestamp} {ext} {tz} {tz_offset}``. The file
    is written atomically. ``zeropadding`` is accepted as 0.2 did, and unused as there.
    """
    shown = timestamp
    tz_abbr = tz_offset = ""
    if timezone:
        local = timestamp if timestamp.tzinfo else timeutil.localize(timestamp, timeutil.zone(None))
        shown = local.astimezone(timeutil.zone(timezone))
        tz_abbr, tz_offset = shown.strftime("%Z"), _tz_offset(shown)
    if not timestampformat:
        timestampformat = _DEFAULT_FORMAT + (" %Z" if timezone else "")
    if not filenameformat:
        filenameformat = "{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}" + (
            "{tz_offset}.{ext}" if tz_offset else ".{ext}"
        )
    if resize:
        if keep_aspect:
            image.thumbnail(resolution, Image.Resampling.LANCZOS)
        else:
            image = image.resize(resolution, Image.Resampling.LANCZOS)
    if drawtimestamp:
        image = ImageIO.timestamp_image(
            image,
            shown,
            timestampfont,
            timestampformat,
            timestamppos,
            timestampcolor,
            timestampfontsize,
        )
    name = filenameformat.format(
        prefix=prefix, timestamp=shown, ext=ext, tz=tz_abbr, tz_offset=tz_offset
    )
    path = Path(outputdir) / name
    fmt = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}.get(ext.lower(), "JPEG")
    buf = io.BytesIO()
    out = image.convert("RGB") if fmt == "JPEG" and image.mode not in ("RGB", "L") else image
    out.save(buf, fmt, quality=quality, optimize=optimize)
    storage.atomic_write(path, buf.getvalue())
    return f"Saved {path}"
