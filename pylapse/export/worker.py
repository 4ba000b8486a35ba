"""The worker side of an export: one process of the pool, handed chunks of frames.

Each worker builds its resize/overlay specs and loads its fonts once (pool initializer, into a
:class:`FrameWriter`), then writes each frame of a chunk into the staging folder under its final
number. The exporting process makes a writer of its own to write the first chunks while its pool
starts. A frame that cannot
be read comes back as a skip with the reason; anything else (disk full, a bad font) fails the
export, which then leaves the previous one as it was.
"""

from __future__ import annotations

import os
import shutil
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import ExifTags

from pylapse import timeutil
from pylapse.export.options import ExportOptions
from pylapse.imaging import deflicker, fonts, process, samesize

__all__ = [
    "FrameWriter",
    "Item",
    "Outcome",
    "Tone",
    "configure",
    "init_worker",
    "item",
    "process_chunk",
]

_JPEG_SUFFIXES = (".jpg", ".jpeg")
_JPEG_EXTS = ("jpg", "jpeg")

Item = tuple[str, float | None, int | None]  # path, utc seconds, offset seconds


def item(frame: Any) -> Item:
    """A frame-like thing as (path, utc, offset): an index Frame, (path, time) or a path."""
    if isinstance(frame, str | os.PathLike):
        return (os.fspath(frame), None, None)
    if isinstance(frame, tuple) and len(frame) == 2:
        path, when = frame
        return (os.fspath(path), when.timestamp(), timeutil.offset_seconds(when))
    utc, offset = getattr(frame, "utc", None), getattr(frame, "offset", None)
    if utc is None and getattr(frame, "time", None) is not None:
        when = frame.time
        utc, offset = when.timestamp(), timeutil.offset_seconds(when)
    return (os.fspath(frame.path), utc, offset)


def _same_format(path: str, ext: str) -> bool:
    suffix = os.path.splitext(path)[1].lower()
    if ext in ("jpg", "jpeg"):
        return suffix in _JPEG_SUFFIXES
    return suffix == "." + ext


def _quick_check(path: str) -> None:
    """Cheap completeness check for frames that are linked without decoding."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 64))
            tail = handle.read()
    except FileNotFoundError:
        raise process.ImageError(f"{path}: file not found") from None
    except OSError as exc:
        raise process.ImageError(f"{path}: cannot be read: {exc}") from None
    if head.startswith(b"\xff\xd8\xff"):
        if b"\xff\xd9" not in tail:
            raise process.ImageError(f"{path}: truncated JPEG (no end-of-image marker)")
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        if b"IEND" not in tail:
            raise process.ImageError(f"{path}: truncated PNG (no IEND chunk)")
    elif head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        pass
    else:
        raise process.ImageError(f"{path}: not a JPEG, PNG or WebP image")


def _link(src: str, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:  # another file system, or links not allowed: copy instead
        shutil.copyfile(src, dest)


def _frame_time(path: str, utc: float | None, offset: int | None) -> datetime:
    if utc is not None and offset is not None:
        return timeutil.from_utc(utc, offset)
    from pylapse import naming  # only for bare paths, which carry no time

    return naming.frame_time(Path(path), timeutil.zone(None)).time


#: a frame's deflicker inputs: (target luma, its stored luma or None to measure it here)
Tone = tuple[float, float | None]

Outcome = tuple[int, bool, tuple[str, str] | None]  # number, linked, (path, skip reason)


class FrameWriter:
    """One export's per-frame settings, built once (specs made, fonts loaded), and the work of
    writing its frames into the staging folder. A pool worker holds one (:func:`configure`);
    the exporting process makes its own to write frames while its pool starts."""

    def __init__(
        self, options: ExportOptions, staging: str, count: int, roots: tuple[str, ...] = ()
    ) -> None:
        """``roots`` (resolved, each ending in a separator): frames must resolve inside one."""
        self.options = options
        self.staging = Path(staging)
        self.names = options.names(count)
        self.resize = options.resize_spec()
        self.stamp = options.timestamp_overlay()
        self.mark = options.watermark()
        self.roots = roots
        # frames kept at their size go through libjpeg-turbo directly where that applies
        self.samesize = options.ext in _JPEG_EXTS and not options.optimize and samesize.available()
        # a 4:2:0 frame stays in its planes unless a picture watermark is drawn on it
        self.planes = self.mark is None or self.mark.image is None
        if options.height and (options.drawtimestamp or options.watermark_text):
            for size in (options.font_size, options.watermark_size):
                fonts.load_font(options.font, max(6, round(size * options.height)))

    def process_chunk(
        self, chunk: list[tuple[int, Item]], tones: dict[int, Tone] | None = None
    ) -> list[Outcome]:
        """What became of each frame of ``chunk``; ``tones`` (by frame number) deflicker them."""
        out: list[Outcome] = []
        for number, entry in chunk:
            try:
                tone = tones.get(number) if tones else None
                out.append((number, self._process_one(number, entry, tone), None))
            except process.ImageError as exc:
                out.append((number, False, (entry[0], str(exc).removeprefix(f"{entry[0]}: "))))
        return out

    def _process_one(self, number: int, entry: Item, tone: Tone | None = None) -> bool:
        """Write frame ``number``; returns True when it was linked. Raises ImageError to skip."""
        options = self.options
        path, utc, offset = entry
        source = path  # the file read: the frame's path, or where it resolved when checked
        if self.roots:
            source = os.path.realpath(path)
            if not os.path.join(source, "").startswith(self.roots):
                raise process.ImageError(
                    f"{path}: not inside the storage roots (a link out of them?)"
                )
        dest = self.staging / self.names.name(number)
        if options.link and not options.processes_pixels and _same_format(path, options.ext):
            _quick_check(source)
            _link(source, dest)
            return True
        if (
            self.samesize
            and tone is None
            and self._write_same_size(source, dest, path, utc, offset)
        ):
            return False
        image = process.open_frame(source, self.resize)
        try:
            exif = image.getexif()
            exif.pop(ExifTags.Base.Orientation, None)  # pixels are upright now
            image = process.resize_image(image, self.resize)
            if tone is not None:
                target, luma = tone
                if luma is None:  # not measured at capture: measure the decoded frame now
                    luma = deflicker.measure_luma(image)
                gain = deflicker.gain_for(luma, target, options.deflicker_strength)
                image = deflicker.apply_gain(image, gain)
            if self.stamp is not None:
                self.stamp.apply(image, _frame_time(path, utc, offset))
            if self.mark is not None:
                self.mark.apply(image)
            process.encode(
                image,
                dest,
                options.ext,
                quality=options.quality,
                optimize=options.optimize,
                exif=process.exif_bytes_for(exif, process.output_format(options.ext)),
            )
        finally:
            image.close()
        return False

    def _write_same_size(
        self, source: str, dest: Path, path: str, utc: float | None, offset: int | None
    ) -> bool:
        """Write the frame through libjpeg-turbo when it needs no resize, turning or colour
        work (:mod:`pylapse.imaging.samesize`); False, having written nothing, when that does
        not apply."""
        frame = samesize.open_frame(source, self.resize, planes=self.planes)
        if frame is None:
            return False
        exif = frame.exif
        exif.pop(ExifTags.Base.Orientation, None)  # as the Pillow way does (upright already)
        if self.stamp is not None:
            self.stamp.apply(frame.image, _frame_time(path, utc, offset))
        if self.mark is not None:
            self.mark.apply(frame.image)
        samesize.encode(
            frame, dest, quality=self.options.quality, exif=process.exif_bytes_for(exif, "JPEG")
        )
        return True


_writer: list[FrameWriter] = []  # this worker process's writer, once configured


def _watch_owner(owner: int) -> None:
    """End this worker when the export process that owns it is gone (killed, crashed).

    Pool workers block on a queue whose pipe they hold both ends of, so they would otherwise
    wait forever as orphans. Their half-written staging folder is removed by the next export.
    """
    tick = threading.Event()
    while not tick.wait(1.0):
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(3)  # nothing to clean up or flush: the owner is gone
        except PermissionError:
            pass  # the pid exists (reused by another user's process is harmless too)


def init_worker(
    options: ExportOptions, staging: str, count: int, owner: int, roots: tuple[str, ...] = ()
) -> None:
    """Per worker process: build the specs once and load the fonts they use once. ``roots``
    (resolved, each ending in a separator): frames must resolve inside one of them."""
    threading.Thread(target=_watch_owner, args=(owner,), name="owner-watch", daemon=True).start()
    configure(options, staging, count, roots)


def configure(
    options: ExportOptions, staging: str, count: int, roots: tuple[str, ...] = ()
) -> None:
    """This process's export settings (what :func:`init_worker` sets up, without watching an
    owner): a Celery worker sets them for each chunk it is handed."""
    _writer[:] = [FrameWriter(options, staging, count, roots)]


def process_chunk(
    chunk: list[tuple[int, Item]], tones: dict[int, Tone] | None = None
) -> list[Outcome]:
    """:meth:`FrameWriter.process_chunk` of this process's writer (set by :func:`configure`)."""
    return _writer[0].process_chunk(chunk, tones)
