"""Export: selected frames -> numbered, processed files in a folder, in parallel, non-destructively.

``run_export(selection, "/exports/day", ExportOptions(width=1920, height=1080,
drawtimestamp=True))`` writes ``000001.jpg``, ``000002.jpg``, ... in time order (as many digits
as the count needs, at least six, so names sort right past 99,999 frames). Frames are processed
by a pool of worker processes in small chunks, each worker loading its fonts once. A frame that
cannot be read is skipped and reported; numbering stays gap-free for ffmpeg. The previous export
in the folder stays intact until the new one is complete (see :mod:`pylapse.export_swap`).

When no processing is asked for, frames are hard-linked (copied across file systems) instead of
re-encoded: exporting a year of frames for a render then costs seconds. Note that a hard link
*is* the source frame, so edit exported files only after copying them.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from pylapse import timeutil
from pylapse.export_swap import ExportError, NameSet, Staging, digits_for, output_name
from pylapse.imaging import fonts, process
from pylapse.imaging.overlay import Placement, TimestampOverlay, Watermark
from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report

__all__ = [
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "digits_for",
    "output_name",
    "run_export",
]

_JPEG_SUFFIXES = (".jpg", ".jpeg")
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class ExportOptions:
    """How frames are written. Field names mirror ``ExportPreset`` in the config."""

    prefix: str = ""
    ext: str = "jpg"  # jpg, png or webp
    width: int | None = None
    height: int | None = None
    resize_mode: str = "fit"  # fit (aspect kept, never enlarged), exact, fill (crop to cover)
    quality: int = 90
    optimize: bool = False
    drawtimestamp: bool = False
    timestamp_format: str = "%Y-%m-%d %H:%M"
    font: str | None = None  # built-in when empty; a system font name or a font file path
    font_size: float = 0.04  # fraction of the image height
    font_color: str = "#ffffff"
    backdrop: str = "outline"  # none, outline, box
    backdrop_color: str = "#000000"
    box_opacity: float = 0.5
    anchor: str = "bottom-right"
    offset_x: int = 0
    offset_y: int = 0
    margin: float = 0.02  # fraction of the image height
    display_timezone: str | None = None  # stamp in this zone; default: each frame's own clock
    watermark_text: str | None = None
    watermark_image: str | None = None  # a PNG
    watermark_opacity: float = 0.5
    watermark_size: float = 0.05
    watermark_anchor: str = "bottom-left"
    watermark_offset_x: int = 0
    watermark_offset_y: int = 0
    link: bool = True  # hard-link (or copy) frames when nothing needs processing
    workers: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "ext", self.ext.lower().lstrip("."))
        process.output_format(self.ext)
        if os.sep in self.prefix or (os.altsep and os.altsep in self.prefix):
            raise ValueError(f"prefix {self.prefix!r} must not contain a path separator")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be 1-100, got {self.quality}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        self.resize_spec()
        # placement is checked even when unused, so a preset with a typo fails when saved
        Placement(self.anchor, (self.offset_x, self.offset_y), self.margin)  # type: ignore[arg-type]
        Placement(self.watermark_anchor, (0, 0), self.margin)  # type: ignore[arg-type]
        self.timestamp_overlay()
        self.watermark()
        if self.drawtimestamp or self.watermark_text:
            fonts.font_path(self.font)  # a missing font fails now, not in every worker

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | Any, **overrides: Any) -> ExportOptions:
        """Options from a dict or a model (e.g. an ``ExportPreset``); unknown keys are ignored
        there but refused in ``overrides`` with the accepted names."""
        if hasattr(data, "model_dump"):
            data = data.model_dump()
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(
                f"unknown export option(s) {', '.join(unknown)}; "
                f"accepted: {', '.join(sorted(known))}"
            )
        values = {k: v for k, v in dict(data or {}).items() if k in known and v is not None}
        values.update(overrides)
        return cls(**values)

    def resize_spec(self) -> process.Resize | None:
        if self.width is None and self.height is None:
            return None
        try:
            mode = process.ResizeMode(self.resize_mode)
        except ValueError:
            accepted = ", ".join(m.value for m in process.ResizeMode)
            raise ValueError(
                f"resize_mode {self.resize_mode!r} is not one of: {accepted}"
            ) from None
        return process.Resize(self.width, self.height, mode)

    def timestamp_overlay(self) -> TimestampOverlay | None:
        if not self.drawtimestamp:
            return None
        return TimestampOverlay(
            format=self.timestamp_format,
            font=self.font or None,
            size=self.font_size,
            color=self.font_color,
            backdrop=self.backdrop,  # type: ignore[arg-type]
            backdrop_color=self.backdrop_color,
            box_opacity=self.box_opacity,
            placement=Placement(self.anchor, (self.offset_x, self.offset_y), self.margin),  # type: ignore[arg-type]
            display_timezone=self.display_timezone or None,
        )

    def watermark(self) -> Watermark | None:
        if not (self.watermark_text or self.watermark_image):
            return None
        return Watermark(
            text=self.watermark_text or None,
            image=self.watermark_image or None,
            opacity=self.watermark_opacity,
            size=self.watermark_size,
            font=self.font or None,
            color=self.font_color,
            placement=Placement(
                self.watermark_anchor,  # type: ignore[arg-type]
                (self.watermark_offset_x, self.watermark_offset_y),
                self.margin,
            ),
        )

    @property
    def processes_pixels(self) -> bool:
        """Whether frames must be re-encoded (otherwise they are linked when formats match)."""
        return bool(
            self.width
            or self.height
            or self.optimize
            or self.drawtimestamp
            or self.watermark_text
            or self.watermark_image
        )


@dataclass
class ExportResult:
    written: int
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    output_dir: Path = Path()
    linked: int = 0  # of ``written``, how many are hard links or copies of the source
    seconds: float = 0.0

    def summary(self, max_skipped: int = 20) -> dict[str, Any]:
        """A JSON-ready result for job history (the first ``max_skipped`` skips listed)."""
        return {
            "written": self.written,
            "linked": self.linked,
            "skipped": len(self.skipped),
            "skipped_frames": [
                {"path": str(p), "reason": r} for p, r in self.skipped[:max_skipped]
            ],
            "output_dir": str(self.output_dir),
            "seconds": round(self.seconds, 3),
        }


# --- frames in ---------------------------------------------------------------------------------

Item = tuple[str, float | None, int | None]  # path, utc seconds, offset seconds


def _item(frame: Any) -> Item:
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


def _in_time_order(frames: Sequence[Any]) -> Sequence[Any]:
    """``frames`` itself when already in time order (the usual case), else a sorted copy."""
    last = float("-inf")
    for frame in frames:
        utc = _item(frame)[1]
        if utc is None:
            continue
        if utc < last:
            return sorted(frames, key=lambda f: _item(f)[1] or 0.0)
        last = utc
    return frames


def _chunks(frames: Iterable[Any], size: int, output_dir: Path) -> Iterator[list[tuple[int, Item]]]:
    chunk: list[tuple[int, Item]] = []
    for number, frame in enumerate(frames, start=1):
        item = _item(frame)
        if Path(os.path.abspath(item[0])).parent == output_dir:
            raise ExportError(
                f"{item[0]} is a source frame inside the export folder {output_dir}; "
                "export to a separate folder"
            )
        chunk.append((number, item))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- the worker side -----------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


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


def _init_worker(options: ExportOptions, staging: str, count: int, owner: int) -> None:
    """Per worker process: build the specs once and load the fonts they use once."""
    threading.Thread(target=_watch_owner, args=(owner,), name="owner-watch", daemon=True).start()
    _WORKER.update(
        options=options,
        staging=Path(staging),
        names=NameSet(options.prefix, options.ext, count),
        resize=options.resize_spec(),
        stamp=options.timestamp_overlay(),
        mark=options.watermark(),
    )
    if options.height and (options.drawtimestamp or options.watermark_text):
        for size in (options.font_size, options.watermark_size):
            fonts.load_font(options.font, max(6, round(size * options.height)))


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


def _process_one(number: int, item: Item) -> bool:
    """Write frame ``number``; returns True when it was linked. Raises ImageError to skip."""
    w = _WORKER
    options: ExportOptions = w["options"]
    path, utc, offset = item
    dest = w["staging"] / w["names"].name(number)
    if options.link and not options.processes_pixels and _same_format(path, options.ext):
        _quick_check(path)
        _link(path, dest)
        return True
    image = process.open_frame(path, w["resize"])
    try:
        exif = image.getexif()
        exif.pop(_EXIF_ORIENTATION, None)  # pixels are upright now
        image = process.resize_image(image, w["resize"])
        if w["stamp"] is not None:
            w["stamp"].apply(image, _frame_time(path, utc, offset))
        if w["mark"] is not None:
            w["mark"].apply(image)
        process.encode(
            image,
            dest,
            options.ext,
            quality=options.quality,
            optimize=options.optimize,
            exif=exif.tobytes() if len(exif) else None,
        )
    finally:
        image.close()
    return False


Outcome = tuple[int, bool, tuple[str, str] | None]  # number, linked, (path, skip reason)


def _process_chunk(chunk: list[tuple[int, Item]]) -> list[Outcome]:
    """What became of each frame of ``chunk``."""
    out: list[Outcome] = []
    for number, item in chunk:
        try:
            out.append((number, _process_one(number, item), None))
        except process.ImageError as exc:
            out.append((number, False, (item[0], str(exc).removeprefix(f"{item[0]}: "))))
    return out


# --- the parent side -----------------------------------------------------------------------------


def _pool(workers: int, options: ExportOptions, staging: Path, count: int) -> cf.Executor:
    # forkserver: safe from a multi-threaded parent (the web app); workers start from a clean
    # process that already imported this module.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["pylapse.export"])
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(options, str(staging), count, os.getpid()),
    )


def _close_gaps(staging: Path, names: NameSet, skipped_numbers: set[int]) -> None:
    """Renumber written files in order so ffmpeg sees 1..written without holes."""
    target = NameSet(names.prefix, names.ext, names.count - len(skipped_numbers))
    new = 0
    for number in range(1, names.count + 1):
        if number in skipped_numbers:
            continue
        new += 1
        if names.name(number) != target.name(new):
            os.rename(staging / names.name(number), staging / target.name(new))


def run_export(
    frames_or_selection: Any,
    output_dir: str | os.PathLike[str],
    options: ExportOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ExportResult:
    """Export frames (a ``Selection``, or a sequence of index Frames, (path, time) pairs or
    paths) into ``output_dir``; see the module docstring. Raises :class:`Cancelled` when
    ``cancel`` is set (the previous export is then untouched) and :class:`ExportError` when the
    export cannot start."""
    options = options or ExportOptions()
    frames: Iterable[Any]
    if hasattr(frames_or_selection, "iter_frames"):
        # a Selection: already in time order; loaded from the index in batches, so memory
        # stays flat however many frames it holds
        total, frames = len(frames_or_selection), frames_or_selection.iter_frames()
    else:
        given = getattr(frames_or_selection, "frames", frames_or_selection)
        listed = given if isinstance(given, Sequence) else list(given)
        total, frames = len(listed), _in_time_order(listed)
    if total == 0:
        raise ExportError("nothing to export: the selection has no frames")
    started = time.monotonic()
    names = NameSet(options.prefix, options.ext, total)
    with Staging(output_dir) as staging:
        staging.check_conflicts(names)
        assert staging.path is not None
        skipped: dict[int, tuple[str, str]] = {}
        linked, produced = _run_pool(
            frames, staging, options, total, skipped, progress, cancel, started
        )
        # a frame deleted from the index since the selection was made leaves fewer than total
        missing = set(skipped) | set(range(produced + 1, total + 1))
        if missing:
            _close_gaps(staging.path, names, missing)
        written = total - len(missing)
        if written == 0:
            path, reason = skipped[min(skipped)]
            raise ExportError(
                f"no frame could be read ({len(skipped)} skipped, e.g. {path}: {reason}); "
                "the previous export was left as it was"
            )
        staging.commit(NameSet(options.prefix, options.ext, written))
    return ExportResult(
        written=written,
        skipped=[(Path(skipped[n][0]), skipped[n][1]) for n in sorted(skipped)],
        output_dir=staging.output_dir,
        linked=linked,
        seconds=time.monotonic() - started,
    )


def _run_pool(
    frames: Iterable[Any],
    staging: Staging,
    options: ExportOptions,
    total: int,
    skipped: dict[int, tuple[str, str]],
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    started: float,
) -> int:
    """Feed chunks to the workers, a bounded number in flight; returns (linked, frames seen)."""
    assert staging.path is not None
    workers = max(1, min(options.workers, total))
    chunk_size = max(1, min(16, total // (workers * 8)))
    chunks = _chunks(frames, chunk_size, staging.output_dir)
    done = linked = produced = 0
    safe_report(progress, Progress("process", 0, total))
    with _pool(workers, options, staging.path, total) as pool:
        pending: set[cf.Future] = set()
        try:
            while True:
                while len(pending) < workers * 3:
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    produced = chunk[-1][0]
                    pending.add(pool.submit(_process_chunk, chunk))
                if not pending:
                    break
                finished, pending = cf.wait(pending, 0.2, cf.FIRST_COMPLETED)
                if cancel is not None and cancel.is_set():
                    raise Cancelled("export cancelled; the previous export was left as it was")
                for future in finished:
                    for number, was_linked, skip in future.result():
                        done += 1
                        linked += was_linked
                        if skip is not None:
                            skipped[number] = skip
                if finished:
                    safe_report(progress, _progress(done, total, started, len(skipped)))
        except BaseException:
            for future in pending:
                future.cancel()
            with contextlib.suppress(Exception):
                pool.shutdown(wait=True, cancel_futures=True)
            raise
    return linked, produced


def _progress(done: int, total: int, started: float, skipped: int) -> Progress:
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = done / elapsed
    eta = (total - done) / rate if rate > 0 else None
    message = f"{skipped} unreadable frame(s) skipped" if skipped else ""
    return Progress("process", done, total, rate=rate, eta=eta, message=message)
