"""The per-day segment cache: a long video encoded once per day, joined by stream copy.

Each local day of frames (the frame's own UTC offset decides its day) is encoded on its own
by :func:`~pylapse.video.render.render_frames` into
``<cache>/<params hash>/<YYYY-MM-DD><ext>`` with fixed parameters: one codec, pixel format,
output size (taken from the first frame, so every day is the same size), frame rate and ffmpeg
build, all in the params hash. Each new encode starts with a key frame, so every segment opens a
closed GOP with the same codec configuration and timebase. The day's fingerprint (count and a
hash of each frame's path, UTC time, size and mtime as the index has them, and repeats) is kept
in the segment's manifest; a day whose fingerprint or parameters changed is encoded again, the
others are reused. The video is the segments joined by ffmpeg's concat demuxer with ``-c copy``
and ``+faststart``: timestamps continue across the joins, so the file plays as one stream.

Not cached (:func:`why_not` says why; the caller renders in one piece): stabilising (vidstab
smooths the camera path over the whole sequence, so a day's start would depend on the day
before), deflicker (its luma window runs across midnight; per-day windows would change the
first and last frames of each day), a target duration (the rate depends on the frame total),
filled gaps (a slot's previous frame may be the day before) and GIF (no stream-copy join).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pylapse import orphans, storage
from pylapse.ffmpeg import find_ffmpeg, run_ffmpeg
from pylapse.progress import Progress, ProgressCallback, safe_report
from pylapse.storage import IfExists
from pylapse.video.codecs import resolve_codec
from pylapse.video.command import RenderOptions, check_options, fit_size
from pylapse.video.framecheck import SkippedFrame
from pylapse.video.framelist import NoFramesError
from pylapse.video.manifest import manifest_path, read_manifest, write_manifest
from pylapse.video.render import RenderError, RenderResult, render_frames
from pylapse.video.temps import sweep_render_temps

__all__ = [
    "CACHE_FOLDER",
    "DayToEncode",
    "EncodeDays",
    "OtherSize",
    "SegmentedRender",
    "UntimedFrames",
    "cached_segment",
    "day_fingerprint",
    "encode_day",
    "frame_stamp",
    "join_segments",
    "params_key",
    "render_segmented",
    "why_not",
]

CACHE_FOLDER = Path("cache") / "segments"  # under the data folder, then <collection>/
SEGMENT_VERSION = 1  # bump when a segment's encoding changes in a way the options do not show

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_JOINABLE = {"mp4", "mov", "matroska"}  # containers the concat demuxer joins by stream copy


class UntimedFrames(ValueError):
    """A frame without a time (a folder's files, a selection slot): no day to cache it under."""


class OtherSize(RenderError):
    """A day's frames make another video size than the first day's (another aspect ratio):
    segments cannot be joined by stream copy."""


@dataclass(frozen=True)
class SegmentedRender:
    """What :func:`render_segmented` made: the render, and which days were encoded or reused."""

    result: RenderResult
    encoded: tuple[str, ...]
    reused: tuple[str, ...]
    folder: Path = field(repr=False)  # the segments' folder (for this params hash)


@dataclass(frozen=True)
class DayToEncode:
    """A day whose segment is missing or stale: its frames in time order, where its segment
    goes and the fingerprint its manifest will carry."""

    day: str
    items: list[Any]
    segment: Path
    fingerprint: str


#: encodes the days (with the day options, the video size, progress counted in frames over all
#: the days, cancel, the storage roots) and returns each day's segment manifest: in this
#: process by default, on Celery workers with :mod:`pylapse.video.distributed`
EncodeDays = Callable[
    [Sequence[DayToEncode], RenderOptions, tuple[int, int], ProgressCallback | None,
     threading.Event | None, Sequence[str | os.PathLike[str]]],
    dict[str, dict[str, Any]],
]  # fmt: skip


def why_not(options: RenderOptions, output: str | os.PathLike[str]) -> str | None:
    """Why a render with ``options`` to ``output`` cannot use the segment cache; None if it can."""
    if options.stabilise:
        return "stabilise needs the whole sequence at once"
    if options.deflicker:
        return "deflicker's window runs across day borders"
    if options.duration is not None:
        return "a target duration sets the rate from the frame total"
    if options.fill_gaps:
        return "a filled gap may repeat the day before's last frame"
    codec = resolve_codec(options.codec)
    container = codec.containers.get(Path(output).suffix.lower())
    if codec.name == "gif" or container not in _JOINABLE:
        return f"{codec.name} in {Path(output).suffix or 'this file'} is not joined by stream copy"
    return None


def params_key(options: RenderOptions, size: tuple[int, int], ffmpeg_version: str,
               ext: str) -> str:  # fmt: skip
    """The hash naming a cache folder: everything that shapes a segment's bytes."""
    data = asdict(replace(options, ffmpeg_path=None, size=size))
    data.update(version=SEGMENT_VERSION, ffmpeg=ffmpeg_version, ext=ext)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def frame_stamp(item: Any) -> tuple[str, float, int | None, float | None]:
    """(path, UTC, size, mtime) of a frame: the index's size and mtime when it has them, else
    the file's (a frame replaced in place changes both)."""
    path = os.fspath(getattr(item, "path", item))
    size, mtime = getattr(item, "size", None), getattr(item, "mtime", None)
    if size is None or mtime is None:
        try:
            st = os.stat(path)
            size, mtime = st.st_size, st.st_mtime
        except OSError:
            size, mtime = None, None
    return path, float(item.utc), size, mtime


def day_fingerprint(items: Iterable[Any]) -> str:
    """``<count>:<sha256>`` of a day's frames (path, UTC, size, mtime), in render order."""
    digest, count = hashlib.sha256(), 0
    for item in items:
        path, utc, size, mtime = frame_stamp(item)
        digest.update(f"{path}\t{utc!r}\t{size}\t{mtime!r}\n".encode("utf-8", "surrogateescape"))
        count += 1
    return f"{count}:{digest.hexdigest()}"


def _days(frames: Iterable[Any]) -> dict[str, list[Any]] | None:
    """Frames by local day in time order; None when a frame carries no time (or is a slot)."""
    iter_frames = getattr(frames, "iter_frames", None)
    items = list(iter_frames() if callable(iter_frames) else frames)
    if not items or any(getattr(i, "utc", None) is None for i in items):
        return None
    items.sort(key=lambda i: float(i.utc))
    by_number: dict[int, list[Any]] = {}
    for item in items:  # the local day as a day number: a date object per frame costs more
        local = float(item.utc) + (getattr(item, "offset", None) or 0)
        by_number.setdefault(int(local // 86400), []).append(item)
    return {date.fromordinal(_EPOCH_ORDINAL + n).isoformat(): run
            for n, run in by_number.items()}  # fmt: skip


def _first_size(days: Mapping[str, list[Any]]) -> tuple[int, int]:
    """The source size of the first readable frame (the index's, else the file header)."""
    from PIL import Image

    for items in days.values():
        for item in items:
            w, h = getattr(item, "width", None), getattr(item, "height", None)
            if w and h:
                return int(w), int(h)
            with contextlib.suppress(OSError, ValueError), \
                    Image.open(os.fspath(getattr(item, "path", item))) as image:  # fmt: skip
                return image.size
    raise NoFramesError("no readable frame to take the video size from")


def cached_segment(segment: Path, fingerprint: str) -> dict[str, Any] | None:
    """The manifest of ``segment`` when it is complete and made of the frames of
    ``fingerprint``; None when it has to be encoded (again)."""
    manifest = read_manifest(segment)
    if not manifest or manifest.get("segment_fingerprint") != fingerprint:
        return None
    if not segment.is_file() or segment.stat().st_size != manifest.get("bytes"):
        return None
    return manifest


def encode_day(day: str, items: list[Any], segment: Path, options: RenderOptions,
               fingerprint: str, size: tuple[int, int], report: ProgressCallback | None,
               cancel: threading.Event | None, roots: Iterable[str | os.PathLike[str]],
               ) -> dict[str, Any]:  # fmt: skip
    """Encode one day's segment and note its fingerprint in its manifest (written last, so a
    crash in between leaves a segment that is encoded again). The segment itself is placed
    complete under its name or not at all (a hidden temp file, renamed), so two encodes of one
    day (a task redone while the first still runs) each leave a whole segment."""
    manifest_path(segment).unlink(missing_ok=True)
    result = render_frames(items, segment, options, report, cancel, if_exists="replace",
                           roots=roots)  # fmt: skip
    if (result.width, result.height) != size:
        raise OtherSize(
            f"day {day}: its frames make {result.width}x{result.height}, the video is "
            f"{size[0]}x{size[1]}; render without the segment cache (or set other_sizes='fit')"
        )
    manifest = read_manifest(segment) or {}
    manifest["segment_fingerprint"] = fingerprint
    manifest["day"] = day
    write_manifest(segment, manifest)
    return manifest


def _join_command(ffmpeg: Path, list_file: Path, temp: Path, container: str) -> list[str]:
    cmd = [os.fspath(ffmpeg), "-hide_banner", "-y", "-loglevel", "error", "-f", "concat",
           "-safe", "0", "-i", os.fspath(list_file), "-map", "0:v", "-c", "copy"]  # fmt: skip
    if container in ("mp4", "mov"):
        cmd += ["-movflags", "+faststart"]
    return [*cmd, "-f", container, os.fspath(temp)]


def render_segmented(
    frames: Iterable[Any],
    output: str | os.PathLike[str],
    options: RenderOptions | Mapping[str, Any] | None,
    cache: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    if_exists: str = IfExists.REPLACE,
    roots: Iterable[str | os.PathLike[str]] = (),
    encode: EncodeDays | None = None,
) -> SegmentedRender:
    """Render ``frames`` (each with ``path``, ``utc``, ``offset``; index frames also give
    ``size``/``mtime``/``width``/``height``) to ``output`` through the day segments under
    ``cache`` (a collection's cache folder). Raises ``ValueError`` when :func:`why_not` has a
    reason or a frame has no time, and what :func:`render_frames` raises.

    ``encode`` encodes the missing days elsewhere (Celery workers); the days, their frames and
    the join stay here, so the frame list is the same either way."""
    if not isinstance(options, RenderOptions):
        options = RenderOptions.from_dict(options or {})
    check_options(options)
    output = Path(output).absolute()
    reason = why_not(options, output)
    if reason is not None:
        raise ValueError(f"segment cache: {reason}")
    started = time.perf_counter()
    policy = IfExists(if_exists)
    if policy is IfExists.ERROR and output.exists():
        raise FileExistsError(f"{output} exists; nothing was replaced")
    days = _days(frames)
    if days is None:
        raise UntimedFrames("segment cache: every frame needs a time (a collection's frames)")
    codec = resolve_codec(options.codec)
    container = codec.containers[output.suffix.lower()]
    info = find_ffmpeg(options.ffmpeg_path)
    size = fit_size(_first_size(days), options.size)
    day_options = replace(options, size=size)
    folder = Path(cache) / params_key(options, size, info.version, output.suffix.lower())
    folder.mkdir(parents=True, exist_ok=True)
    prints = {day: day_fingerprint(items) for day, items in days.items()}
    manifests: dict[str, dict[str, Any]] = {}
    for day in days:
        found = cached_segment(folder / f"{day}{output.suffix}", prints[day])
        if found is not None:
            manifests[day] = found
    todo = [day for day in days if day not in manifests]
    total = sum(len(days[d]) for d in todo) or 1
    wanted = [DayToEncode(day, days[day], folder / f"{day}{output.suffix}", prints[day])
              for day in todo]  # fmt: skip
    manifests.update((encode or _encode_here)(wanted, day_options, size, progress, cancel,
                                              list(roots)))  # fmt: skip
    safe_report(progress, Progress("encode", total, total, message="joining days"))
    result = _join(info.path, folder, list(days), manifests, output, policy, container, cancel)
    made = sum(int(m.get("output_frames", 0)) for m in manifests.values())
    skipped = [SkippedFrame(s["path"], s["reason"]) for m in manifests.values()
               for s in m.get("skipped", [])]  # fmt: skip
    elapsed = time.perf_counter() - started
    first, last = manifests[next(iter(days))], manifests[list(days)[-1]]
    manifest = write_manifest(result[0], {
        "video": result[0].name,
        "created": datetime.now(UTC).isoformat(),
        "output_frames": made,
        "frame_count": sum(int(m.get("frame_count", 0)) for m in manifests.values()),
        "skipped_frames": sum(int(m.get("skipped_frames", 0)) for m in manifests.values()),
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped[:1000]],
        "fps": options.fps, "width": size[0], "height": size[1],
        "first_frame": first.get("first_frame"), "last_frame": last.get("last_frame"),
        "first_time": first.get("first_time"), "last_time": last.get("last_time"),
        "options": asdict(options),
        "codec": {"name": codec.name, "encoder": codec.encoder, "container": container},
        "ffmpeg": {"path": str(info.path), "source": info.source, "version": info.version},
        "command": result[1],
        "segments": {"folder": str(folder), "days": list(days), "encoded": todo,
                     "reused": [d for d in days if d not in todo]},
        "elapsed": round(elapsed, 3),
        "bytes": result[0].stat().st_size,
    })  # fmt: skip
    render = RenderResult(result[0], manifest, made, options.fps, *size, elapsed, result[1],
                          tuple(skipped))  # fmt: skip
    reused = tuple(d for d in days if d not in todo)
    return SegmentedRender(render, tuple(todo), reused, folder)


def _encode_here(
    wanted: Sequence[DayToEncode],
    options: RenderOptions,
    size: tuple[int, int],
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    roots: Sequence[str | os.PathLike[str]],
) -> dict[str, dict[str, Any]]:
    """The days encoded one after the other in this process."""
    total = sum(len(w.items) for w in wanted) or 1
    done, manifests = 0, {}
    for want in wanted:
        report = _day_progress(progress, want.day, done, total)
        manifests[want.day] = encode_day(want.day, want.items, want.segment, options,
                                         want.fingerprint, size, report, cancel, roots)  # fmt: skip
        done += len(want.items)
    return manifests


def _day_progress(progress: ProgressCallback | None, day: str, before: int, total: int
                  ) -> ProgressCallback:  # fmt: skip
    """One day's encode reported as part of all the days to encode (``before`` frames done)."""

    def report(p: Progress) -> None:
        if p.stage == "encode" and p.total:
            done = min(total, before + p.done)
            safe_report(progress, Progress("encode", done, total, p.rate, p.eta, f"day {day}"))

    return report


def _join(ffmpeg: Path, folder: Path, days: list[str], manifests: Mapping[str, Any],
          output: Path, policy: IfExists, container: str, cancel: threading.Event | None,
          ) -> tuple[Path, list[str]]:  # fmt: skip
    """Join the day segments into ``output`` by stream copy (temp name, renamed when done)."""
    lines = ["ffconcat version 1.0"]
    for day in days:
        path = os.path.abspath(folder / f"{day}{output.suffix}").replace("'", "'\\''")
        lines.append(f"file '{path}'")
    output.parent.mkdir(parents=True, exist_ok=True)
    sweep_render_temps(output.parent)
    owned = orphans.OwnedTemp(output.parent, f".{output.name}.", storage.TEMP_SUFFIX)
    # in the temp folder and named as a render's frame list, so a killed join's list is swept
    listing = orphans.OwnedTemp(tempfile.gettempdir(), "", ".concat.txt")
    try:
        listing.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = _join_command(ffmpeg, listing.path, owned.path, container)
        total = sum(int(manifests[d].get("output_frames", 0)) for d in days)
        result = run_ffmpeg(command, total=total, cancel=cancel, remove_on_cancel=[owned.path],
                            stage="join")  # fmt: skip
        if result.returncode != 0:
            raise RenderError(f"joining {len(days)} day segments into {output.name} failed",
                              result.stderr_tail)  # fmt: skip
        os.chmod(owned.path, 0o644)
        final = storage.place_file(owned.path, output, policy,
                                   taken=lambda p: manifest_path(p).exists())  # fmt: skip
        storage.fsync_dir(output.parent)
    finally:
        with contextlib.suppress(OSError):
            owned.path.unlink()
        with contextlib.suppress(OSError):
            listing.path.unlink()
        owned.close()
        listing.close()
    public = [("<segments>" if a == os.fspath(listing.path) else a) for a in command[:-1]]
    return final, [*public, final.as_posix()]


def join_segments(ffmpeg: Path, folder: Path, names: list[str], manifests: Mapping[str, Any],
                  output: Path, policy: IfExists, container: str,
                  cancel: threading.Event | None = None) -> tuple[Path, list[str]]:  # fmt: skip
    """Join the segments ``folder/<name><output's suffix>`` (each with its manifest in
    ``manifests``, for the frame count) into ``output`` by stream copy, as
    :func:`render_segmented` does its days; ``(the video's path, the join command)``. Mosaics
    encode in parts and join them this way."""
    return _join(ffmpeg, folder, names, manifests, output, policy, container, cancel)
