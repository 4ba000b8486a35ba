"""Mosaics as use cases shared by the dashboard, the CLI and the API: a multi-camera grid or a
sunset mosaic made from collections and encoded to a video with its manifest, run directly
(``pylapse mosaic``) or as a ``mosaic`` job with staged progress (select -> compose -> encode)
and cancel.

The composed frames go to a hidden folder beside the output and are handed to the video runner
(:func:`pylapse.video.render.render_frames`: its codecs, its temp name placed only on success,
its manifest, its ffmpeg stopped on cancel); the folder is removed whatever happens. A failed or
cancelled mosaic writes nothing and never harms an earlier video of the same name.

The photomosaic (an image or a video rebuilt from a collection's own frames) is its own use case
in :mod:`pylapse.tasks.photomosaic`; its video goes through :func:`encode_composed` here.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pylapse import orphans
from pylapse.ffmpeg import find_ffmpeg
from pylapse.mosaic.grid import grid_plan
from pylapse.mosaic.sequence import COMPOSE, MosaicPlan, write_frames
from pylapse.mosaic.sunset import days_between, sunset_plan
from pylapse.mosaic.timeline import Track
from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report
from pylapse.storage import IfExists
from pylapse.video import segments
from pylapse.video.codecs import resolve_codec
from pylapse.video.command import RenderOptions
from pylapse.video.manifest import read_manifest, write_manifest
from pylapse.video.render import render_frames

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.config.models import Config
    from pylapse.jobs.runner import JobRunner

__all__ = [
    "STEPS",
    "collection_track",
    "encode_composed",
    "grid_video",
    "job_params",
    "list_mosaics",
    "mosaic_output",
    "mosaics_folder",
    "queue_grid",
    "queue_sunset",
    "render_mosaic",
    "sunset_video",
    "sweep_frame_folders",
]  # fmt: skip

#: the job's steps, weighted by what each costs: composing decodes every input frame
STEPS = {"select": 1, "compose": 12, "encode": 6}


def collection_track(
    collection: Collection,
    date_from: date | datetime | str | None,
    date_to: date | datetime | str | None,
    name: str | None = None,
) -> Track:
    """The frames of ``collection`` in the range (its own zone's days) as a :class:`Track`."""
    selection = collection.select(date_from=date_from, date_to=date_to)
    paths = [str(frame.path) for frame in selection.iter_frames()]
    utcs = np.asarray(selection.utcs, dtype=np.float64)
    return Track(name or collection.name, collection.zone, utcs, paths)


_FRAMES = ".frames"  # the composed frames' hidden folder: .NAME.frames.pylapse-PID-RANDOM


def sweep_frame_folders(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the composed-frame folders in ``folder`` that a mosaic killed outright left (their
    name carries the owner's pid; a folder whose owner still runs is never touched)."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            pid = orphans.owner_pid(entry.name)
            if (
                pid is None
                or not entry.name.startswith(".")
                or _FRAMES not in entry.name
                or not entry.is_dir(follow_symlinks=False)
                or orphans.pid_alive(pid)
            ):
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def _iso(utc: float) -> str:
    return datetime.fromtimestamp(utc, UTC).isoformat()


#: composed frames on disk at a time: a longer mosaic is encoded in parts of this many frames
#: and the parts joined by stream copy, so the hidden folder holds a part's JPEGs, not a month's
CHUNK = 1500

Write = Callable[[Path, int, int], list[Path]]  # (folder, first, stop) -> the frames written


def _options(render: RenderOptions | Mapping[str, Any] | None, output: Path) -> RenderOptions:
    if isinstance(render, RenderOptions):
        return render
    wanted = dict(render or {})
    if output.suffix.lower() == ".gif":  # a GIF for short results, asked by its name
        wanted.setdefault("codec", "gif")
    return RenderOptions.from_dict(wanted)


def encode_composed(
    write: Write,
    count: int,
    output: str | os.PathLike[str],
    render: RenderOptions | Mapping[str, Any] | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    section: Callable[[], dict[str, Any]],
    chunk: int = CHUNK,
) -> dict[str, Any]:
    """``write(folder, first, stop)`` composes frames into a hidden folder beside ``output``;
    they are encoded by the video runner (in parts of ``chunk`` frames joined by stream copy
    when there are more, and the codec allows it) and the folder is removed whatever happens.
    The manifest beside the video gets ``section()`` as its ``mosaic`` section."""
    target = Path(output).absolute()
    options = _options(render, target)
    if chunk < 1:
        raise ValueError(f"chunk: {chunk} must be at least 1 frame")
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_frame_folders(target.parent)
    prefix = orphans.owned_prefix(f".{target.name}{_FRAMES}.")
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        if count <= chunk or segments.why_not(options, target) is not None:
            frames = write(folder, 0, count)
            if cancel is not None and cancel.is_set():
                raise Cancelled("the mosaic was cancelled")
            result = render_frames(frames, target, options, progress, cancel)
            final, manifest = result.output, read_manifest(result.output) or {}
            for key in ("first_frame", "last_frame"):  # composed frames in a folder now gone
                manifest.pop(key, None)
        else:
            final, manifest = _in_parts(write, count, target, options, folder, progress,
                                        cancel, chunk)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    written = write_manifest(final, {**manifest, "mosaic": section()})
    return {"output": str(final), "manifest": str(written),
            "frames": manifest.get("output_frames"), "fps": manifest.get("fps"),
            "width": manifest.get("width"), "height": manifest.get("height")}  # fmt: skip


def _in_parts(write: Write, count: int, target: Path, options: RenderOptions, folder: Path,
              progress: ProgressCallback | None, cancel: threading.Event | None,
              chunk: int) -> tuple[Path, dict[str, Any]]:  # fmt: skip
    names: list[str] = []
    parts: dict[str, Any] = {}
    total = -(-count // chunk)
    for i, lo in enumerate(range(0, count, chunk)):
        frames = write(folder, lo, min(count, lo + chunk))
        if cancel is not None and cancel.is_set():
            raise Cancelled("the mosaic was cancelled")
        name = f"part-{i:05d}"
        note = Progress(
            COMPOSE, lo + len(frames), count, message=f"encoding part {i + 1} of {total}"
        )

        def encoding(p: Progress, note: Progress = note) -> None:
            safe_report(progress, note)  # the parts' encodes belong to composing's share

        render_frames(frames, folder / f"{name}{target.suffix}", options, encoding, cancel)
        for frame in frames:
            frame.unlink()
        names.append(name)
        parts[name] = read_manifest(folder / f"{name}{target.suffix}") or {}
    info = find_ffmpeg(options.ffmpeg_path)
    codec = resolve_codec(options.codec)
    container = codec.containers[target.suffix.lower()]
    safe_report(progress, Progress("encode", 0, 1, message=f"joining {total} parts"))
    final, command = segments.join_segments(info.path, folder, names, parts, target,
                                            IfExists.REPLACE, container, cancel)  # fmt: skip
    safe_report(progress, Progress("encode", 1, 1))
    last = parts[names[-1]]
    return final, {
        "video": final.name,
        "created": datetime.now(UTC).isoformat(),
        "output_frames": sum(int(m.get("output_frames", 0)) for m in parts.values()),
        "fps": last.get("fps"),
        "width": last.get("width"),
        "height": last.get("height"),
        "parts": total,
        "options": last.get("options"),
        "codec": last.get("codec"),
        "ffmpeg": last.get("ffmpeg"),
        "command": last.get("command"),
        "join_command": command,
        "bytes": final.stat().st_size,
    }


def render_mosaic(
    plan: MosaicPlan,
    output: str | os.PathLike[str],
    render: RenderOptions | Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    about: Mapping[str, Any] | None = None,
    workers: int | None = None,
    chunk: int = CHUNK,
) -> dict[str, Any]:
    """Compose ``plan``'s frames and encode them to ``output``; the manifest beside it gets a
    ``mosaic`` section (``about`` plus the plan's size, tiles and counts). A summary back."""
    if not len(plan):
        raise ValueError("the mosaic has no output frames (no input has frames in the range)")
    counts = plan.counts()

    def section() -> dict[str, Any]:
        return {
            **(about or {}),
            "size": list(plan.size),
            "output_frames": len(plan),
            "tiles": [
                {"name": p.track.name, "box": list(p.tile.box), "frames": len(p.track.utcs)}
                for p in plan.tiles
            ],
            "tile_frames": counts,
            "missing": plan.missing.value,
            "band": list(plan.band) if plan.band else None,
        }

    def write(folder: Path, first: int, stop: int) -> list[Path]:
        return write_frames(plan, folder, progress, cancel, workers=workers, start=first,
                            stop=stop)  # fmt: skip

    result = encode_composed(write, len(plan), output, render, progress, cancel, section, chunk)
    return {**result, "tile_frames": counts}


def _selected(progress: ProgressCallback | None, tracks: Sequence[Track]) -> None:
    found = sum(len(t.utcs) for t in tracks)
    safe_report(progress, Progress("select", 1, 1, message=f"{found} frames"))


def grid_video(
    collections: Sequence[Collection],
    date_from: date | datetime | str | None,
    date_to: date | datetime | str | None,
    output: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    render: RenderOptions | Mapping[str, Any] | None = None,
    size: tuple[int, int] = (1920, 1080),
    workers: int | None = None,
    chunk: int = CHUNK,
    **options: Any,
) -> dict[str, Any]:
    """Cameras side by side, time-synchronised (``options``: :func:`grid_plan`'s: layout, rows,
    cols, step, tolerance, missing, labels, keep_empty)."""
    safe_report(progress, Progress("select", 0, 1))
    tracks = [collection_track(c, date_from, date_to) for c in collections]
    _selected(progress, tracks)
    plan = grid_plan(tracks, size, **options)
    about = {"kind": "grid", "collections": [c.key for c in collections],
             "from": str(date_from), "to": str(date_to),
             "first_instant": _iso(float(plan.instants[0])) if len(plan) else None,
             "last_instant": _iso(float(plan.instants[-1])) if len(plan) else None,
             "options": {k: (v.value if hasattr(v, "value") else v)
                         for k, v in options.items()}}  # fmt: skip
    return render_mosaic(plan, output, render, progress, cancel, about=about, workers=workers,
                         chunk=chunk)  # fmt: skip


def sunset_video(
    collection: Collection,
    date_from: date,
    date_to: date,
    output: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    render: RenderOptions | Mapping[str, Any] | None = None,
    size: tuple[int, int] = (1920, 1080),
    workers: int | None = None,
    chunk: int = CHUNK,
    **options: Any,
) -> dict[str, Any]:
    """A grid of the days ``date_from`` to ``date_to`` around each day's sun event
    (``options``: :func:`sunset_plan`'s: event, start, end, step, tolerance, rows, cols, band,
    missing, labels). The place is the collection's (its camera's) latitude and longitude."""
    if collection.latitude is None or collection.longitude is None:
        raise ValueError(
            f"{collection.key}: a sunset mosaic needs the camera's latitude and longitude"
        )
    days = days_between(date_from, date_to)
    safe_report(progress, Progress("select", 0, 1))
    start: timedelta = options.get("start", timedelta(minutes=-60))
    end: timedelta = options.get("end", timedelta(minutes=30))
    # the frames of every window, with a day's slack either side for late sunsets
    track = collection_track(collection, date_from - timedelta(days=1),
                             date_to + timedelta(days=1))  # fmt: skip
    _selected(progress, [track])
    made = sunset_plan(track, days, collection.latitude, collection.longitude, size, **options)
    about = {"kind": "sunset", "collection": collection.key, "from": str(date_from),
             "to": str(date_to), "event": str(options.get("event", "sunset")),
             "start_seconds": start.total_seconds(), "end_seconds": end.total_seconds(),
             "days": [{"day": str(d), "event": _iso(e) if e is not None else None}
                      for d, e in zip(made.days, made.events, strict=True)],
             "gaps": [str(g) for g in made.gaps]}  # fmt: skip
    result = render_mosaic(made.plan, output, render, progress, cancel, about=about,
                           workers=workers, chunk=chunk)  # fmt: skip
    return {**result, "gaps": [str(g) for g in made.gaps]}


def _queue(jobs: JobRunner, title: str, params: dict[str, Any],
           make: Callable[[ProgressCallback, threading.Event], dict[str, Any]]) -> int:  # fmt: skip
    return jobs.submit("mosaic", title, make, steps=STEPS, params=params)


def job_params(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options as job parameters (JSON): enums by value, durations in seconds."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, timedelta):
            value = value.total_seconds()
        out[key] = getattr(value, "value", value)
    return out


def queue_grid(
    jobs: JobRunner,
    collections: Sequence[Collection],
    date_from: date,
    date_to: date,
    output: str | os.PathLike[str],
    **options: Any,
) -> int:
    """:func:`grid_video` as a ``mosaic`` job; returns its id. Nothing is written when the
    job is cancelled or fails."""
    shown = {k: v for k, v in options.items() if k not in ("render", "workers")}
    params = {"kind": "grid", "collections": [c.key for c in collections],
              "from": str(date_from), "to": str(date_to), "output": str(output),
              **job_params(shown)}  # fmt: skip

    def make(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        return grid_video(collections, date_from, date_to, output, progress, cancel, **options)

    names = ", ".join(c.key for c in collections)
    return _queue(jobs, f"Mosaic grid of {names}, {date_from} to {date_to}", params, make)


def queue_sunset(
    jobs: JobRunner,
    collection: Collection,
    date_from: date,
    date_to: date,
    output: str | os.PathLike[str],
    **options: Any,
) -> int:
    """:func:`sunset_video` as a ``mosaic`` job; returns its id."""
    shown = {k: v for k, v in options.items() if k not in ("render", "workers")}
    params = {"kind": "sunset", "collection": collection.key, "from": str(date_from),
              "to": str(date_to), "output": str(output), **job_params(shown)}  # fmt: skip

    def make(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        return sunset_video(collection, date_from, date_to, output, progress, cancel, **options)

    title = f"Sunset mosaic of {collection.key}, {date_from} to {date_to}"
    return _queue(jobs, title, params, make)


def mosaics_folder(config: Config) -> Path | None:
    """Where the dashboard's mosaic videos go: ``mosaics`` in the first storage root (None when
    there is no storage root)."""
    return config.root_paths[0] / "mosaics" if config.root_paths else None


def mosaic_output(config: Config, kind: str, ids: Sequence[str], date_from: date,
                  date_to: date, ext: str = ".mp4") -> Path:  # fmt: skip
    """The dashboard's path for a mosaic video: ``<kind>-<ids>-<from>_<to>.mp4`` in the mosaics
    folder (the same mosaic made again replaces it); ``ValueError`` without a storage root."""
    folder = mosaics_folder(config)
    if folder is None:
        raise ValueError("no storage roots are configured to hold mosaics")
    names = "+".join(re.sub(r"[^\w-]+", "-", i).strip("-") or "collection" for i in ids)
    return folder / f"{kind}-{names}-{date_from}_{date_to}{ext}"


def list_mosaics(folder: str | os.PathLike[str] | None) -> list[tuple[Path, dict[str, Any]]]:
    """The mosaic videos in ``folder`` whose manifest has a ``mosaic`` section and whose video is
    there: ``(video, manifest)``, newest first."""
    if folder is None:
        return []
    found: list[tuple[float, Path, dict[str, Any]]] = []
    for manifest_file in Path(folder).glob("[!.]*.json"):  # hidden files are temps
        video = manifest_file.with_suffix("")
        manifest = read_manifest(video)
        if manifest is not None and "mosaic" in manifest and video.is_file():
            found.append((manifest_file.stat().st_mtime, video, manifest))
    found.sort(key=lambda item: (-item[0], item[1].name))
    return [(video, manifest) for _, video, manifest in found]
