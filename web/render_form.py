"""The render form: its values checked into what a render job needs, or a FieldError naming
the input that is wrong (the Videos page's POST and the tests use it alike).

A render takes its frames from an export folder (the files in it, those resolving inside the
storage roots) or from a collection's selection (cron fields, dates, tolerance; checked now and
made again when the job runs, since frames may arrive meanwhile), with codec, rate or length,
quality, speed, size, deflicker and stabilise. Every folder is confined to the storage roots.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from pylapse import storage
from pylapse.tasks.render import stabilise_unavailable, usable_codecs
from pylapse.video.codecs import SPEEDS
from pylapse.video.segments import CACHE_FOLDER
from web.routes import _media as m

__all__ = ["OTHER_SIZES", "export_folders", "inside_roots", "plan_render", "videos_folder"]

log = logging.getLogger(__name__)

CRON_FIELDS = ("minute", "hour", "day_of_week", "day", "month")
OTHER_SIZES = (("skip", "Skip them (each is listed after the render)"),
               ("fit", "Scale and pad them into the video"))  # fmt: skip


def videos_folder(config: Any) -> Path:
    folder = config.videos_folder
    if folder is None:
        raise m.FieldError("output_dir", "no storage roots are configured")
    return Path(folder)


def export_folders(runtime: Any, limit: int = 200) -> list[Path]:
    """Folders an export wrote (or may write): each preset's and those under ``exports/``."""
    from pylapse.collection import Collection

    config = runtime.config
    found: dict[Path, None] = {}
    for preset_id, preset in config.exports.items():
        with contextlib.suppress(Exception):
            if preset.collection:
                coll = Collection.from_config(config, preset.collection, runtime.index)
                found[coll.export.output_dir(preset_id)] = None
    for root in config.root_paths:
        top = root / "exports"
        with contextlib.suppress(OSError):
            for entry in sorted(os.scandir(top), key=lambda e: e.name):
                if entry.is_dir() and not entry.name.startswith("."):
                    found[Path(entry.path)] = None
                    with contextlib.suppress(OSError):
                        for sub in sorted(os.scandir(entry.path), key=lambda e: e.name):
                            if sub.is_dir() and not sub.name.startswith("."):
                                found[Path(sub.path)] = None
    return [p for p in found if p.is_dir()][:limit]


def inside_roots(found: list[Any], roots: list[Path]) -> list[Any]:
    """The listed files that resolve inside ``roots``: an export folder holds the frames an
    export linked or copied there, so a symlink out of the roots in it was put there by
    someone else and is left out of the video (and logged)."""
    real_roots = storage.resolved_roots(roots)
    kept: list[Any] = []
    out: list[Any] = []
    for f in found:
        (kept if storage.within(os.path.realpath(f.path), real_roots) else out).append(f)
    if out:
        log.warning(
            "render: %d file(s) pointing outside the storage roots left out, e.g. %s",
            len(out), out[0].path,
        )  # fmt: skip
    return kept


def _number(values: dict[str, str], name: str, kind: type, low: float, high: float) -> Any:
    text = values.get(name, "").strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise m.FieldError(name, f"{text!r} is not a number") from None
    if not low <= value <= high:
        raise m.FieldError(name, f"{text} is outside {low:g}-{high:g}")
    return value


def _checked(values: dict[str, str], name: str) -> bool:
    return values.get(name) in ("on", "1", "true")


def _look_options(config: Any, values: dict[str, str]) -> dict[str, Any]:
    """Deflicker and stabilise from the form. Stabilising is offered only when the ffmpeg has
    vidstab; a request asking for it anyway is refused saying why."""
    options: dict[str, Any] = {}
    if _checked(values, "stabilise"):
        why_not = stabilise_unavailable(config)
        if why_not is not None:
            raise m.FieldError("stabilise", f"stabilising is not available: {why_not}")
        options["stabilise"] = True
    if _checked(values, "deflicker"):
        options["deflicker"] = True
        options["deflicker_window"] = _number(values, "deflicker_window", int, 3, 1001)
        options["deflicker_strength"] = _number(values, "deflicker_strength", float, 0, 1)
    return options


def plan_render(runtime: Any, values: dict[str, str]) -> dict[str, Any]:
    """Check a render form; returns what :func:`pylapse.tasks.render.queue_render` needs
    (besides the runner and the config) or raises FieldError."""
    from pylapse.selection.targets import SelectionError
    from pylapse.video.codecs import resolve_codec
    from pylapse.video.framelist import folder_frames

    config = runtime.config
    available, error = usable_codecs(config)
    if error:
        raise m.FieldError("codec", error)
    codec_name = values.get("codec", "h264")
    if codec_name not in {c.name for c in available}:
        accepted = ", ".join(c.name for c in available)
        raise m.FieldError(
            "codec", f"codec {codec_name!r} is not available; this ffmpeg has {accepted}"
        )
    codec = resolve_codec(codec_name)
    options: dict[str, Any] = {"codec": codec.name}
    if values.get("timing") == "duration":
        options["duration"] = _number(values, "duration", float, 0.1, 86400)
        if options["duration"] is None:
            raise m.FieldError("duration", "give the video length in seconds")
    else:
        options["fps"] = _number(values, "fps", float, 0.1, 240) or 24.0
    if codec.quality is not None:
        options["crf"] = _number(values, "crf", int, codec.quality[0], codec.quality[1])
    speed = values.get("speed", "").strip() or None
    if speed is not None and speed not in SPEEDS:
        raise m.FieldError("speed", f"{speed!r} is not one of {', '.join(SPEEDS)}")
    options["speed"] = speed
    size = values.get("size", "").strip()
    if size:
        from pylapse.video.command import parse_size

        try:
            options["size"] = parse_size(size)
        except ValueError as exc:
            raise m.FieldError("size", str(exc)) from None
    options["fill_gaps"] = values.get("fill_gaps") in ("on", "1", "true")
    options.update(_look_options(config, values))
    other_sizes = values.get("other_sizes", "skip") or "skip"
    if other_sizes not in dict(OTHER_SIZES):
        raise m.FieldError("other_sizes", f"{other_sizes!r} is not 'skip' or 'fit'")
    options["other_sizes"] = other_sizes
    replace = values.get("replace") in ("on", "1", "true")
    folder = m.confine(
        config, values.get("output_dir", "").strip() or videos_folder(config), "output_dir"
    )
    stem = m.file_stem(values.get("name", "") or f"timelapse-{m.now_stamp()}", "name")
    output = folder / f"{stem}{codec.default_extension}"
    source = values.get("source", "export")
    segment_cache: Path | None = None
    if source == "collection":
        cid = values.get("collection", "")
        coll = runtime.collections().get(cid)
        if coll is None:
            raise m.FieldError("collection", f"choose a collection (no collection {cid!r})")
        cron = {f: values[f].strip() for f in CRON_FIELDS if values.get(f, "").strip()}
        tolerance = _number(values, "tolerance", float, 0, 86400 * 7)
        kw: dict[str, Any] = {"date_from": values.get("date_from") or None,
                              "date_to": values.get("date_to") or None, **cron}  # fmt: skip
        if tolerance is not None:
            kw["tolerance"] = tolerance
        if _checked(values, "keep_dead_frames"):  # a dead camera's frames are left out unless
            kw["keep_dead_frames"] = True
        try:
            coll.select(**kw)  # check the rules now; the job selects again (frames may arrive)
        except (SelectionError, ValueError) as exc:
            raise m.FieldError("selection", str(exc)) from None

        def frames() -> Any:
            return coll.select(**kw)

        title = f"Render {coll.name}"
        params: dict[str, Any] = {"source": "collection", "collection": cid, **cron}
        if kw.get("keep_dead_frames"):
            params["keep_dead_frames"] = True
        roots = [*config.root_paths, *coll.roots]  # a camera folder set by hand may lie outside
        if _checked(values, "segment_cache"):  # the days of this collection's videos, cached
            segment_cache = config.data_path / CACHE_FOLDER / cid
    else:
        folder_in = m.confine(config, values.get("export_dir", "").strip() or "-", "export_dir")
        if not folder_in.is_dir():
            raise m.FieldError("export_dir", f"{values.get('export_dir')!r} is not a folder")
        pattern = values.get("pattern", "").strip() or "*.jpg"
        if "/" in pattern or "\\" in pattern:
            raise m.FieldError("pattern", "the pattern matches file names, not paths")

        def frames() -> Any:
            return inside_roots(folder_frames(folder_in, pattern, None), config.root_paths)

        title = f"Render {folder_in.name}"
        params = {"source": "export", "export_dir": str(folder_in)}
        roots = list(config.root_paths)
    return {
        "title": title,
        "frames": frames,
        "output": output,
        "options": options,
        "params": {**params, "speed": speed},  # each speed's figure in the form comes from here
        "if_exists": "replace" if replace else "rename",
        "roots": roots,
        "segment_cache": segment_cache,
    }
