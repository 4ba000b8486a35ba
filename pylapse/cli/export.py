"""``pylapse export``: select frames of a collection and export them, with a progress bar.

Either a preset from the config (``--preset NAME``) or a collection with cron fields given here
(``--collection ID --hour 6-20 --minute '*/15'``); options given here override the preset's.
``--dry-run`` prints the selection preview (frames chosen, gaps, first/last, video length) and
writes nothing. The collection's index is brought up to date first (an incremental scan that
re-reads nothing when no file changed; ``--no-scan`` skips it).
"""

from __future__ import annotations

import argparse
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse.cli import CommandError, add_config_option, load_config_or_fail, progress_bars

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.config.models import Config
    from pylapse.config.presets import ExportPreset

__all__ = ["preview_text", "register", "run"]

_CRON_FLAGS = ("month", "day", "day_of_week", "hour", "minute", "second")
# quality filters (pylapse.selection.quality_filter): flag -> help; off unless given
_THRESHOLDS = {
    "min_luma": "drop frames darker than this mean luma (0-255, e.g. 20)",
    "max_luma": "drop frames brighter than this mean luma (0-255, e.g. 245)",
    "min_contrast": "drop blank frames with less contrast (e.g. 3)",
    "max_clip_high": "drop frames with a larger share of clipped highlights (0-1, e.g. 0.25)",
    "min_sharpness": "drop frames blurrier than this variance of the Laplacian (e.g. 20)",
}
_SWITCHES = {
    "drop_duplicates": "drop frames identical to the previous one",
    "drop_frozen": "drop runs of identical frames (a frozen camera)",
    "best_in_window": "take the sharpest acceptable frame within the tolerance, not the nearest",
    "keep_dead_frames": "keep frames of a dead camera (frozen runs, blank pictures, frames far "
    "darker than the same time the day before), which are left out by default",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="select frames of a collection and export them (resized, stamped)",
        description="Select frames of a collection (an export preset from the config, or cron "
        "fields given here) and export them, with a progress bar; --dry-run only previews.",
    )
    add_config_option(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", metavar="NAME", help="an export preset from the config")
    which.add_argument("--collection", metavar="ID", help="a collection or camera id")
    for name in _CRON_FLAGS:
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            metavar="EXPR",
            help=f"cron {name} field, e.g. " + {"hour": "6-20", "minute": "'*/15'"}.get(name, "*"),
        )
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first day, inclusive")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last day, inclusive")
    parser.add_argument(
        "--tolerance",
        type=float,
        metavar="SECONDS",
        help="how far a frame may be from its target (default 300)",
    )
    for name, text in _THRESHOLDS.items():
        parser.add_argument("--" + name.replace("_", "-"), type=float, metavar="N", help=text)
    for name, text in _SWITCHES.items():
        parser.add_argument(
            "--" + name.replace("_", "-"), action="store_true", default=None, help=text
        )
    parser.add_argument(
        "--best-of-day",
        metavar="HH:MM",
        help="one frame per day: the sharpest acceptable one near this clock time",
    )
    parser.add_argument(
        "--sun",
        action="append",
        metavar="POINT",
        help="one frame per day at this sun point instead of cron fields, e.g. sunset-30m, noon, "
        "civil_dawn+1h (repeatable; needs the collection's latitude/longitude)",
    )
    parser.add_argument(
        "--sun-window",
        metavar="WINDOW",
        help="keep only frames inside this sun window of each day: day, night or START..END, "
        "e.g. civil_dawn-30m..civil_dusk+30m",
    )
    parser.add_argument("--output", type=Path, metavar="DIR", help="folder to export into")
    parser.add_argument("--prefix", help="output file name prefix")
    parser.add_argument("--timestamp", action="store_true", default=None, help="stamp the time")
    parser.add_argument("--resize", metavar="WxH", help="fit into WIDTHxHEIGHT")
    parser.add_argument("--quality", type=int, help="JPEG/WebP quality 1-100")
    parser.add_argument("--optimize", action="store_true", default=None, help="optimise JPEGs")
    parser.add_argument(
        "--deflicker",
        nargs="?",
        const=-1,
        type=int,
        metavar="WINDOW",
        help="even out frame-to-frame brightness from the stored luma curve "
        "(optionally over WINDOW frames; default 13)",
    )
    parser.add_argument("--fps", type=float, default=24.0, help="for the video length (24)")
    parser.add_argument("--dry-run", action="store_true", help="print the selection, write nothing")
    parser.add_argument("--no-scan", action="store_true", help="do not rescan the folder first")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _preset(config: Any, args: argparse.Namespace) -> tuple[str, Any]:
    from pylapse.config.presets import ExportPreset

    if args.preset is None:
        return args.collection, ExportPreset(collection=args.collection)
    if args.preset not in config.exports:
        known = ", ".join(sorted(config.exports)) or "none in the config"
        raise CommandError(f"no export preset {args.preset!r}; known: {known}")
    preset = config.exports[args.preset]
    if not preset.collection:
        raise CommandError(f"export preset {args.preset!r} names no 'collection'")
    return preset.collection, preset


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not match or not (int(match[1]) and int(match[2])):
        raise CommandError(f"--resize {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080")
    return int(match[1]), int(match[2])


def _selection(collection: Any, preset: Any, args: argparse.Namespace) -> Any:
    from pylapse.selection.selection import DEFAULT_TOLERANCE
    from pylapse.selection.targets import CRON_FIELDS, SelectionError

    fields: dict[str, Any] = {
        f: getattr(preset, f) for f in CRON_FIELDS if getattr(preset, f) is not None
    }
    fields.update({f: getattr(args, f) for f in _CRON_FLAGS if getattr(args, f) is not None})
    for name in (*_THRESHOLDS, *_SWITCHES):  # given here, else the preset's
        value = getattr(args, name)
        value = value if value is not None else getattr(preset, name)
        if value is not None and value is not False:
            fields[name] = value
    best_of_day = args.best_of_day or preset.best_of_day
    tolerance = args.tolerance if args.tolerance is not None else preset.tolerance
    if best_of_day and args.tolerance is None and "tolerance" not in preset.model_fields_set:
        tolerance = DEFAULT_TOLERANCE  # select() then takes the day slice's hour
    try:
        return collection.select(
            best_of_day=best_of_day,
            sun=args.sun or preset.sun or None,
            sun_window=args.sun_window or preset.sun_window,
            tolerance=tolerance,
            date_from=args.date_from or preset.date_from,
            date_to=args.date_to or preset.date_to,
            **fields,
        )
    except SelectionError as exc:
        raise CommandError(str(exc)) from None


def preview_text(name: str, selection: Any, fps: float = 24.0) -> str:
    """The selection preview, as ``--dry-run`` prints it."""
    c = selection.counts
    first, last = selection.first_time, selection.last_time
    lines = [
        f"{name}: {c.chosen:,} frames chosen of {c.considered:,} in range",
        f"  targets: {c.targets:,}, gaps (no frame within tolerance): {c.gaps:,}",
        f"  first:   {first.isoformat() if first else '-'}",
        f"  last:    {last.isoformat() if last else '-'}",
        f"  video:   {selection.video_seconds(fps):.1f} s at {fps:g} fps"
        + (
            f" ({selection.video_seconds(fps, fill_gaps=True):.1f} s with gaps filled)"
            if c.gaps
            else ""
        ),
    ]
    left_out = getattr(selection, "left_out", None)
    if left_out:
        from pylapse.selection.dead_camera import left_out_text

        lines.append(f"  dead camera: {left_out_text(left_out)} (--keep-dead-frames keeps them)")
    dropped = getattr(selection, "dropped", None)
    if dropped:
        total = sum(dropped.values())
        before = c.considered + total
        lines.append(
            f"  filters: would drop {total:,} of {before:,} frames ("
            + ", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in dropped.items())
            + ")"
        )
    sun_gaps = getattr(selection, "sun_gaps", None)
    if sun_gaps:
        more = f" (and {len(sun_gaps) - 3:,} more)" if len(sun_gaps) > 3 else ""
        lines.append(f"  sun: {len(sun_gaps):,} days without the event or window{more}:")
        lines.extend(f"    {g}" for g in sun_gaps[:3])
    if c.gaps:
        shown = [g.isoformat() for g in selection.gaps[:5]]
        more = f" and {c.gaps - len(shown):,} more" if c.gaps > len(shown) else ""
        lines.append("  gaps at: " + ", ".join(shown) + more)
    return "\n".join(lines)


def _options(preset: Any, args: argparse.Namespace) -> Any:
    from pylapse.export.options import ExportOptions

    overrides: dict[str, Any] = {}
    if args.prefix is not None:
        overrides["prefix"] = args.prefix
    if args.timestamp:
        overrides["drawtimestamp"] = True
    if args.optimize:
        overrides["optimize"] = True
    if args.quality is not None:
        overrides["quality"] = args.quality
    if args.resize:
        overrides["width"], overrides["height"] = _size(args.resize)
    if args.deflicker is not None:
        overrides["deflicker"] = True
        if args.deflicker != -1:
            overrides["deflicker_window"] = args.deflicker
    try:
        return ExportOptions.from_mapping(preset, **overrides)
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc)) from None


def _output_dir(
    config: Config, collection: Collection, preset: ExportPreset, args: argparse.Namespace
) -> Path:
    if args.output is not None:
        return Path(args.output)
    if args.preset is not None:  # the preset's own folder, as the dashboard runs it
        folder = config.export_folder(args.preset)
        if folder is None:
            raise CommandError("no output folder: pass --output DIR")
        return folder
    base = config.resolve(preset.output_dir) if preset.output_dir else collection.export_dir
    if base is None:
        raise CommandError("no output folder: pass --output DIR")
    return base / preset.subdir if preset.subdir else base


def run(args: argparse.Namespace) -> int:
    from pylapse.collection import Collection
    from pylapse.export.staging import ExportError
    from pylapse.index.scan import ScanError
    from pylapse.index.store import FrameIndex
    from pylapse.progress import Cancelled
    from pylapse.selection.targets import SelectionError
    from pylapse.tasks.export import export_preset

    config = load_config_or_fail(args.config)
    collection_id, preset = _preset(config, args)
    options = _options(preset, args)  # bad options fail before any scan
    index = FrameIndex(config.index_location)
    try:
        try:
            collection = Collection.from_config(config, collection_id, index)
        except SelectionError as exc:
            raise CommandError(str(exc)) from None
        if not args.no_scan:
            try:
                collection.refresh()
            except ScanError as exc:
                raise CommandError(str(exc)) from None
        selection = _selection(collection, preset, args)
        name = args.preset or collection_id
        if args.dry_run:
            print(preview_text(name, selection, args.fps))
            return 0
        output = _output_dir(config, collection, preset, args)
        report, close = progress_bars(not args.no_progress, "Exporting")
        try:
            result = export_preset(
                config, collection, preset, output, options, report, threading.Event(),
                selection=selection, name=name,
            )  # fmt: skip
        except (ExportError, OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        except Cancelled as exc:
            raise CommandError(str(exc) or "cancelled", code=130) from None
        finally:
            close()
    finally:
        index.close()
    print(
        f"{result.output_dir}: {result.written:,} frames written"
        + (f" ({result.linked:,} linked)" if result.linked else "")
        + f" in {result.seconds:.1f} s"
    )
    for path, reason in result.skipped[:10]:
        print(f"  skipped {path}: {reason}")
    if len(result.skipped) > 10:
        print(f"  ... and {len(result.skipped) - 10} more skipped")
    return 0
