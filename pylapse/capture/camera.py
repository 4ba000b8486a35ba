"""Camera: grab from a source -> validated bytes -> saved frame -> index row.

The original pyLapse API still works::

    webcam = Camera("Front Porch", "http://192.168.1.100:8080/photoaf.jpg")
    webcam.save_image("/path/to/output", prefix="FrontPorch ")

A frame is named for the time it was *meant* to be taken (the scheduler's fire time, in the
camera's zone), not for when the download finished, so a slow camera's frames still line up on
the schedule's grid. Bytes are validated as one complete image before anything is written, then
written atomically (temp file, fsync, rename) under the day folder (or straight into the
output folder with the ``"flat"`` layout of pyLapse 0.2 files): a reader or a crash never sees
half a frame.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import piexif
from PIL import ExifTags, Image, ImageStat

from pylapse import naming, storage, timeutil
from pylapse.capture import disk
from pylapse.exif import exif_bytes, exposure
from pylapse.imaging import quality, sky
from pylapse.imaging.quality import Scores
from pylapse.imaging.sky import Sky
from pylapse.progress import Cancelled
from pylapse.sources.base import FrameSource, create_source

if TYPE_CHECKING:
    from pylapse.config.cameras import CameraConfig, Layout
    from pylapse.config.models import Config
    from pylapse.index.store import FrameIndex

__all__ = ["Camera", "CaptureResult", "Grab", "ImageMetrics", "NotIndexed", "image_metrics"]

log = logging.getLogger(__name__)

_METRIC_SIDE = 64  # metrics come from a ~64 px grayscale thumbnail: cheap and noise-tolerant


@dataclass(frozen=True)
class Grab:
    """One validated image from a camera, and the time it stands for."""

    data: bytes
    time: datetime
    info: storage.ImageInfo | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ImageMetrics:
    luma: float  # mean grayscale level, 0-255
    stddev: float  # grayscale spread: near 0 means a blank picture


@dataclass(frozen=True)
class CaptureResult:
    camera_id: str
    path: Path
    frame_id: int | None
    time: datetime  # the scheduled time the frame is named for (camera zone)
    size: int
    width: int
    height: int
    luma: float
    stddev: float
    digest: str  # of the source's bytes: equal digests in a row mean a frozen camera
    duration: float  # seconds from the start of the grab to the frame being indexed
    # quality scores of the decoded frame, and how many of its dHash bits differ from the
    # camera's previous frame's (None: no previous frame known)
    scores: Scores | None = None
    hash_distance: int | None = None
    # mean luma of the camera's frame nearest the same local time a day earlier (None: none
    # indexed near it): far darker than it tells a dead camera from a night frame
    luma_yesterday: float | None = None
    # sky metrics (issue 18) over the camera's metrics_region, and the frame's EXIF exposure
    sky: Sky | None = None


class NotIndexed(OSError):
    """The frame was saved, but its index row could not be written: the database's disk is full.

    ``result`` is the saved frame (``frame_id`` None); the file is on disk, so the row can be
    added later (:meth:`~pylapse.index.FrameIndex.add_frame`), or the next scan finds it.
    """

    def __init__(self, result: CaptureResult, reason: str) -> None:
        super().__init__(f"{result.path} was saved but not indexed: {reason}")
        self.result = result


def image_metrics(image: Image.Image) -> ImageMetrics:
    """Mean luma and spread from an already decoded image, on a small grayscale copy."""
    factor = max(1, min(image.width, image.height) // _METRIC_SIDE)
    small = image.reduce(factor) if factor > 1 else image
    gray = small.convert("L")
    stat = ImageStat.Stat(gray)
    return ImageMetrics(round(stat.mean[0], 2), round(stat.stddev[0], 2))


def exif_block(when: datetime) -> bytes:
    """EXIF with DateTimeOriginal and OffsetTimeOriginal for ``when`` (for ``piexif.insert``)."""
    return exif_bytes(when)


def _exif_for(when: datetime, jpeg: bytes, image: Image.Image) -> bytes:
    """Our time tags, merged into the camera's own EXIF when it sent some (keeping its tags)."""
    if "exif" in image.info:
        try:
            tags = piexif.load(jpeg)
            ours = piexif.load(exif_block(when))
            for ifd in ("0th", "Exif"):
                tags.setdefault(ifd, {}).update(ours.get(ifd, {}))
            tags.pop("thumbnail", None)
            tags.pop("1st", None)
            merged: bytes = piexif.dump(tags)  # piexif has no type information
            return merged
        except Exception:  # an EXIF block piexif cannot round-trip: replace it with ours
            log.debug("camera EXIF not mergeable; writing a fresh block", exc_info=True)
    return exif_block(when)


def _has_time(image: Image.Image) -> bool:
    try:
        return bool(image.getexif().get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal))
    except Exception:  # a broken EXIF block in a camera's frame is no reason to lose the frame
        return False


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "camera"


def _camera_config(name: str, url: str, output_dir: str) -> CameraConfig:
    from pylapse.config.cameras import CameraConfig

    kind = "rtsp" if re.match(r"^rtsps?://", url, re.I) else "http"
    return CameraConfig(name=name, url=url, type=kind, output_dir=output_dir)


class Camera:
    """A camera: where its frames come from and how they are saved.

    ``Camera(name, url)`` is an HTTP snapshot camera (RTSP for an ``rtsp://`` URL) with default
    saving settings; :meth:`from_config` builds one from a config entry with every setting.
    ``layout`` (``"day_folders"`` or ``"flat"``) applies when the camera's config names none:
    :meth:`from_config` passes the config's, which is ``"flat"`` for a pyLapse 0.2 file.
    """

    def __init__(
        self,
        name: str,
        url: str | None = None,
        *,
        config: CameraConfig | None = None,
        camera_id: str | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        ffmpeg_path: str | os.PathLike[str] | None = None,
        data_path: str | os.PathLike[str] | None = None,
        source: FrameSource | None = None,
        layout: Layout = "day_folders",
    ) -> None:
        if config is None:
            if not url:
                raise ValueError(f"Camera({name!r}) needs a url (or use Camera.from_config)")
            config = _camera_config(name, url, os.fspath(output_dir or "."))
        self.config = config
        self.name = name
        self.id = camera_id or _slug(name)
        self.output_dir = Path(output_dir if output_dir is not None else config.output_dir)
        self.ffmpeg_path = ffmpeg_path
        self.data_path = data_path
        self.zone: tzinfo = config.zone()
        self.layout: Layout = config.layout or layout
        # Held while a capture runs: a second one for the same camera is skipped, not queued.
        self.busy = threading.Lock()
        self._source = source
        self._source_lock = threading.Lock()
        # dHash of the last frame saved, for the next one's hash distance (None: read the
        # index's last frame instead, e.g. after a restart)
        self._last_hash: int | None = None

    @classmethod
    def from_config(
        cls,
        camera_id: str,
        camera_config: CameraConfig,
        config: Config | None = None,
        **options: Any,
    ) -> Camera:
        """A camera from a config entry; ``config`` (the whole file) resolves relative folders."""
        if config is not None:
            options.setdefault("output_dir", config.resolve(camera_config.output_dir))
            if config.ffmpeg_path:
                options.setdefault("ffmpeg_path", config.resolve(config.ffmpeg_path))
            options.setdefault("data_path", config.data_path)
            options.setdefault("layout", config.layout)
        return cls(camera_config.name, config=camera_config, camera_id=camera_id, **options)

    def __repr__(self) -> str:
        return f"Camera({self.name!r}, id={self.id!r}, type={self.config.type!r})"

    @property
    def source(self) -> FrameSource:
        with self._source_lock:
            if self._source is None:
                self._source = create_source(
                    self.config, ffmpeg_path=self.ffmpeg_path, data_path=self.data_path
                )
            return self._source

    def prepare(self) -> None:
        """Build the source and let it set up what its first grab would (an HTTP client with its
        TLS context costs tens of milliseconds of CPU), so a scheduler can pay that at start-up
        instead of inside the first slot. Sources opt in with a ``prepare()`` method; the HTTP
        source's lazily built ``client()`` is used when it has none."""
        source = self.source
        hook = getattr(source, "prepare", None) or getattr(source, "client", None)
        if callable(hook):
            hook()

    def describe(self) -> str:
        """Credential-free, for logs."""
        return self.source.describe()

    def close(self) -> None:
        with self._source_lock:
            source, self._source = self._source, None
        if source is not None:
            source.close()

    # --- grabbing ------------------------------------------------------------------------------

    def grab(self, when: datetime | None = None) -> Grab:
        """One validated image; ``when`` (default now) is the time it stands for.

        Raises :class:`~pylapse.sources.GrabError` when the camera fails and
        :class:`~pylapse.storage.InvalidImage` when what it sent is not one complete image.
        """
        grab = self.fetch(when)
        return Grab(grab.data, grab.time, storage.validate_image(grab.data))

    def fetch(self, when: datetime | None = None) -> Grab:
        """The network half of :meth:`grab`: the source's bytes, not yet validated.

        The scheduler fetches on a per-camera worker and leaves validation and saving to a small
        pool, so CPU work on one frame never delays another camera's request.
        """
        when = (when or timeutil.now(self.zone)).astimezone(UTC).astimezone(self.zone)
        return Grab(self.source.grab(when), when)

    def path_for(self, when: datetime, output_dir: str | os.PathLike[str] | None = None) -> Path:
        """Where a frame taken at ``when`` is saved."""
        cfg = self.config
        when = when.astimezone(self.zone)
        name = naming.format_name(
            when, cfg.filename_format, prefix=cfg.prefix, camera=self.id, ext=cfg.ext
        )
        day_format = cfg.day_format(self.layout)
        folder = storage.day_folder(output_dir or self.output_dir, when, day_format)
        return folder / name

    def _encode(self, grab: Grab) -> tuple[bytes, Image.Image]:
        """The bytes to save: resized / re-encoded as configured, with EXIF time when absent."""
        cfg = self.config
        info = grab.info
        assert info is not None  # save() validated it
        image = info.image
        want = "PNG" if cfg.ext == "png" else "JPEG"
        box = (cfg.resize_width or image.width, cfg.resize_height or image.height)
        resize = cfg.resize and (image.width > box[0] or image.height > box[1])
        if not resize and info.format == want and (cfg.quality is None or want == "PNG"):
            data = grab.data
        else:
            out_image = image
            if resize:
                out_image = image.copy()
                out_image.thumbnail(box, Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            if want == "JPEG":
                exif = image.info.get("exif") or b""
                rgb = out_image if out_image.mode in ("RGB", "L") else out_image.convert("RGB")
                rgb.save(buf, "JPEG", quality=cfg.quality or 90, exif=exif)
            else:
                out_image.save(buf, "PNG")
            data, image = buf.getvalue(), out_image
        if want == "JPEG" and not _has_time(info.image):
            data = piexif_insert(_exif_for(grab.time, data, info.image), data)
        return data, image

    def _sky_region(self) -> sky.Region:
        region = self.config.metrics_region
        return sky.WHOLE if region is None else sky.Region(region.top, region.bottom)

    # --- saving --------------------------------------------------------------------------------

    def capture(
        self,
        when: datetime | None = None,
        index: FrameIndex | None = None,
        *,
        output_dir: str | os.PathLike[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> CaptureResult:
        """Grab, save and index one frame named for ``when`` (the scheduled time; default now).

        ``cancel`` set before the write means nothing is written (:class:`Cancelled`).
        """
        started = time.monotonic()
        grab = self.fetch(when)
        return self.save(grab, index, output_dir=output_dir, cancel=cancel, started=started)

    def save(
        self,
        grab: Grab,
        index: FrameIndex | None = None,
        *,
        output_dir: str | os.PathLike[str] | None = None,
        cancel: threading.Event | None = None,
        started: float | None = None,
        refuse: Callable[[], str | None] | None = None,
    ) -> CaptureResult:
        """Validate (if not yet), encode, write atomically and index a fetched frame.

        ``started`` (``time.monotonic()`` at the start of the fetch) makes the result's
        ``duration`` cover the whole capture. ``refuse`` is asked right before the write: a
        reason returned (another host took the camera's lease) writes nothing
        (:class:`Cancelled` with that reason).
        """
        started = time.monotonic() if started is None else started
        if grab.info is None:
            grab = Grab(grab.data, grab.time, storage.validate_image(grab.data))
        data, image = self._encode(grab)
        # one reduced copy serves both: the grey scores and the colour sky metrics
        small = quality.reduced(image, "RGB")
        scores = quality.score(small)
        measured = sky.measure(small, image.height, self._sky_region(), exposure(image))
        previous = self._last_hash
        if previous is None and index is not None:
            last = index.last(self.id)
            previous = None if last is None else last.dhash
        distance = None if previous is None else quality.hash_distance(previous, scores.dhash)
        self._last_hash = scores.dhash
        yesterday = None if index is None else index.luma_day_before(self.id, grab.time)
        path = self.path_for(grab.time, output_dir)
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"{self.id}: stopped before saving {path.name}")
        refused = refuse() if refuse is not None else None
        if refused is not None:
            raise Cancelled(refused)
        # A name already taken is never overwritten: a camera whose names carry no offset names
        # both 02:30s of the night clocks go back alike, and the second frame takes x-2.jpg.
        path = storage.atomic_write(path, data, if_exists=storage.IfExists.RENAME)
        result = CaptureResult(
            camera_id=self.id,
            path=path,
            frame_id=None,
            time=grab.time,
            size=len(data),
            width=image.width,
            height=image.height,
            luma=scores.luma,
            stddev=scores.contrast,
            digest=hashlib.blake2b(grab.data, digest_size=16).hexdigest(),
            duration=0.0,
            scores=scores,
            hash_distance=distance,
            luma_yesterday=yesterday,
            sky=measured,
        )
        if index is not None:
            try:
                frame_id = add_to_index(index, result)
            except Exception as exc:
                if not disk.is_disk_full(exc):
                    raise
                # the frame is on disk and stays (files are the truth): say so, do not lose it
                result = dataclasses.replace(result, duration=time.monotonic() - started)
                # the data folder given (the index's own path is no folder on PostgreSQL)
                folder = self.data_path if self.data_path is not None else index.path.parent
                raise NotIndexed(result, disk.data_full_reason(folder)) from exc
            result = dataclasses.replace(result, frame_id=frame_id)
            _tell_saved(index, frame_id)
        return dataclasses.replace(result, duration=time.monotonic() - started)

    def save_image(
        self, output_dir: str | os.PathLike[str] | None = None, prefix: str | None = None
    ) -> Path:
        """Save one frame taken now under ``output_dir`` and return its path (original API).

        ``prefix`` starts the file name (default: the camera's configured prefix).
        """
        camera = self
        if prefix is not None and prefix != self.config.prefix:
            camera = Camera(
                self.name,
                config=self.config.model_copy(update={"prefix": prefix}),
                camera_id=self.id,
                output_dir=self.output_dir,
                source=self.source,
                layout=self.layout,
            )
        return camera.capture(output_dir=output_dir).path

    def preview_stream(self) -> Iterator[bytes]:
        """JPEG frames for a live MJPEG view, sharing one upstream connection between viewers."""
        from pylapse.capture import preview

        return preview.preview_stream(self)


# Who wants to hear of frames saved into an index (the runtime's thumbnail maker), per index:
# the cameras are built by the scheduler and the runtime alike, the index is what they share.
_saved_hooks: weakref.WeakKeyDictionary[FrameIndex, list[Callable[[int], object]]] = (
    weakref.WeakKeyDictionary()
)
_hooks_lock = threading.Lock()


def on_saved(index: FrameIndex, hook: Callable[[int], object]) -> Callable[[], None]:
    """Call ``hook(frame_id)`` after every frame a camera saves and indexes into ``index``, on
    the capturing thread (so it must return at once: queue, never work). Returns the function
    that stops it."""
    with _hooks_lock:
        _saved_hooks.setdefault(index, []).append(hook)

    def remove() -> None:
        with _hooks_lock:
            hooks = _saved_hooks.get(index, [])
            if hook in hooks:
                hooks.remove(hook)

    return remove


def _tell_saved(index: FrameIndex, frame_id: int) -> None:
    with _hooks_lock:
        hooks = list(_saved_hooks.get(index, ()))
    for hook in hooks:
        try:
            hook(frame_id)
        except Exception:  # the frame is saved and indexed: a listener never fails a capture
            log.exception("a listener of saved frames failed on frame %s", frame_id)


def add_to_index(index: FrameIndex, result: CaptureResult) -> int:
    """Add a saved frame's row to ``index``; returns its id (re-adding a path updates it)."""
    return index.add_frame(
        result.camera_id,
        result.path,
        result.time,
        size=result.size,
        mtime=result.path.stat().st_mtime,
        width=result.width,
        height=result.height,
        luma=result.luma,
        scores=_score_columns(result),
    )


def _score_columns(result: CaptureResult) -> dict[str, float | int | None] | None:
    if result.scores is None:
        return None
    columns: dict[str, float | int | None] = dict(result.scores.as_columns())
    del columns["luma"]  # its own argument
    columns["hash_distance"] = result.hash_distance
    if result.sky is not None:
        columns.update(result.sky.as_columns())
    return columns


def piexif_insert(exif: bytes, jpeg: bytes) -> bytes:
    """``jpeg`` with ``exif`` inserted (no re-encoding)."""
    out = io.BytesIO()
    piexif.insert(exif, jpeg, out)
    return out.getvalue()
