"""``pylapse mosaic grid|sunset|photo``: many frames tiled into one video or picture.

``grid``: two to sixteen cameras or collections side by side, time-synchronised (each tile the
frame nearest the same real instant; a camera without one shows its last frame dimmed, or a
placeholder), labelled with each camera's name and local time. ``sunset``: a grid of days,
each tile its own day at the same time relative to that day's sunset (or another sun event),
from ``--start`` to ``--end`` around it. ``photo``: a target image rebuilt from tiles that are
the collection's frames nearest in colour (tile vectors cached in the data folder). The
manifest (``OUTPUT.json``) says how each was made. Run ``pylapse index`` first.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from pylapse.cli import CommandError, add_config_option, load_config_or_fail, progress_bars

__all__ = ["register", "run"]

_NEGATIVE_OFFSET = re.compile(r"^-(\d+(\.\d+)?[hms]?)+$")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _common(parser: argparse.ArgumentParser) -> None:

    parser.add_argument("--from", dest="date_from", type=_day, required=True, help="first day")
    parser.add_argument("--to", dest="date_to", type=_day, required=True, help="last day")
    parser.add_argument("--output", type=Path, required=True, help="the video, e.g. grid.mp4")
    parser.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT (default 1920x1080)")
    parser.add_argument("--fps", type=float, default=24.0, help="frames per second (default 24)")
    parser.add_argument("--codec", help="h264 (default), h265, mpeg4, vp9, gif (default for .gif)")
    parser.add_argument("--crf", type=int, help="quality: lower is better (codec default)")
    parser.add_argument("--rows", type=int, help="grid rows (default: fitted to the count)")
    parser.add_argument("--cols", type=int, help="grid columns (default: fitted)")
    parser.add_argument(
        "--step", type=float, metavar="SECONDS",
        help="time between output frames (default: the frames' spacing)",
    )  # fmt: skip
    parser.add_argument(
        "--tolerance", type=float, metavar="SECONDS",
        help="how far a frame may be from the instant (default: half the step)",
    )  # fmt: skip
    parser.add_argument("--no-labels", action="store_true", help="no name and time on the tiles")
    parser.add_argument("--workers", type=int, help="composing threads (default: one per core)")
    add_config_option(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "mosaic",
        help="tile many frames into one video: cameras side by side, or days around sunset",
        description=__doc__.split("\n\n")[0],
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    grid = kinds.add_parser("grid", help="cameras side by side, time-synchronised")
    grid.add_argument("--collections", required=True, metavar="A,B,C",
                      help="cameras or collections, comma-separated (2 to 16)")  # fmt: skip
    grid.add_argument("--layout", choices=("grid", "strip", "pip"), default="grid",
                      help="grid, one large plus a strip, or picture in picture")  # fmt: skip
    grid.add_argument("--missing", choices=("dim", "placeholder", "repeat", "dark"),
                      default="dim", help="a camera without a frame near the instant")  # fmt: skip
    grid.add_argument("--cover", action="store_true",
                      help="frames fill their tiles, cropped (default: fit inside)")  # fmt: skip
    grid.add_argument("--keep-empty", action="store_true",
                      help="keep instants where no camera has a frame")  # fmt: skip
    _common(grid)
    sunset = kinds.add_parser("sunset", help="a grid of days around each day's sunset")
    sunset.add_argument("--collection", required=True, metavar="ID", help="camera or collection")
    sunset.add_argument("--event", default="sunset",
                        help="sunset, sunrise, noon, civil_dusk, ... (default sunset)")  # fmt: skip
    sunset.add_argument("--start", default="-60m", help="from the event (default -60m)")
    sunset.add_argument("--end", default="30m", help="to the event (default 30m)")
    sunset.add_argument("--band", metavar="TOP:BOTTOM", help="only these rows of each frame")
    sunset.add_argument("--fit", action="store_true",
                        help="frames fit inside their tiles (default: fill, cropped)")  # fmt: skip
    sunset.add_argument("--missing", choices=("repeat", "dark"), default="repeat",
                        help="a day without a frame near the instant (default repeat)")  # fmt: skip
    _common(sunset)
    # "--start -60m" as the issue writes it: argparse takes a value starting with "-" for an
    # option unless it looks like a negative number; offsets are numbers with units here
    sunset._negative_number_matcher = _NEGATIVE_OFFSET
    photo = kinds.add_parser("photo", help="a target image rebuilt from a collection's frames")
    photo.add_argument("--collection", required=True, metavar="ID", help="camera or collection")
    photo.add_argument("--target", type=Path, help="the image to rebuild (a picture output)")
    photo.add_argument("--output", type=Path, required=True,
                       help=".png, .jpg, .tif, .webp; or .mp4, .mkv, .webm, .gif: every frame "
                       "from --from to --to rebuilt (a video mosaic)")  # fmt: skip
    photo.add_argument("--from", dest="date_from", type=_day, help="first day (a video mosaic)")
    photo.add_argument("--to", dest="date_to", type=_day, help="last day (a video mosaic)")
    photo.add_argument("--size", default="1280x720", help="a video mosaic's frame size")
    photo.add_argument("--fps", type=float, default=24.0, help="a video mosaic's frames per second")
    photo.add_argument("--tile", type=int, default=20, metavar="PIXELS", help="cell size (20)")
    photo.add_argument("--repeat", type=int, metavar="N", help="use one frame at most N times")
    photo.add_argument("--opacity", type=float, default=0.0,
                       help="blend the target over the result, 0-1 (default 0)")  # fmt: skip
    photo.add_argument("--codebook", type=int, default=100_000, metavar="N",
                       help="pick tiles from at most about N frames, spread over the "
                       "collection (default 100000)")  # fmt: skip
    photo.add_argument("--workers", type=int, help="decoding threads (default: one per core)")
    photo.add_argument("--config", type=Path, help="config file")
    photo.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _render(args: argparse.Namespace, config: Any) -> dict[str, Any]:
    from pylapse.ffmpeg import configured_ffmpeg

    render = {"fps": args.fps, "crf": args.crf, "ffmpeg_path": configured_ffmpeg(config)}
    if args.codec:  # else h264, or a GIF for a .gif output (tasks.mosaic decides)
        render["codec"] = args.codec
    return render


def _grid(args: argparse.Namespace, config: Any, index: Any, progress: Any) -> dict[str, Any]:
    from pylapse.collection import Collection
    from pylapse.tasks.mosaic import grid_video

    ids = [i.strip() for i in args.collections.split(",") if i.strip()]
    collections = [Collection.from_config(config, i, index) for i in ids]
    return grid_video(
        collections, args.date_from, args.date_to, args.output, progress,
        render=_render(args, config), size=args.size, workers=args.workers, layout=args.layout,
        rows=args.rows, cols=args.cols, step=args.step, tolerance=args.tolerance,
        missing=args.missing, labels=not args.no_labels, keep_empty=args.keep_empty,
        cover=args.cover,
    )  # fmt: skip


def _sunset(args: argparse.Namespace, config: Any, index: Any, progress: Any) -> dict[str, Any]:
    from pylapse.collection import Collection
    from pylapse.mosaic.compose import parse_band
    from pylapse.mosaic.sunset import parse_offset
    from pylapse.tasks.mosaic import sunset_video

    collection = Collection.from_config(config, args.collection, index)
    return sunset_video(
        collection, args.date_from, args.date_to, args.output, progress,
        render=_render(args, config), size=args.size, workers=args.workers, event=args.event,
        start=parse_offset(args.start), end=parse_offset(args.end), step=args.step,
        tolerance=args.tolerance, rows=args.rows, cols=args.cols,
        band=parse_band(args.band) if args.band else None, missing=args.missing,
        labels=not args.no_labels, cover=not args.fit,
    )  # fmt: skip


def _photo(args: argparse.Namespace, config: Any, index: Any, progress: Any) -> int:
    from pylapse.collection import Collection
    from pylapse.tasks.photomosaic import photo_picture, tile_cache_folder

    collection = Collection.from_config(config, args.collection, index)
    if args.output.suffix.lower() in VIDEO_SUFFIXES:
        return _photo_video(args, config, collection, progress)
    if args.target is None:
        raise CommandError("a photomosaic picture needs --target IMAGE")
    result = photo_picture(
        collection, args.target, args.output, tile_cache_folder(config.data_path), progress,
        tile=args.tile, repeat=args.repeat, opacity=args.opacity, workers=args.workers,
        codebook=args.codebook,
    )  # fmt: skip
    print(
        f"{result['output']}: photomosaic {result['width']}x{result['height']}, "
        f"{result['tiles']} tiles from {result['frames']} of {result['codebook']} frames"
    )
    return 0


VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".gif")


def _photo_video(args: argparse.Namespace, config: Any, collection: Any, progress: Any) -> int:
    from pylapse.ffmpeg import configured_ffmpeg
    from pylapse.tasks.photomosaic import photo_video, tile_cache_folder
    from pylapse.video.command import parse_size

    if args.date_from is None or args.date_to is None:
        raise CommandError("a video mosaic needs --from and --to")
    render = {"fps": args.fps, "ffmpeg_path": configured_ffmpeg(config)}
    result = photo_video(
        collection, args.date_from, args.date_to, args.output,
        tile_cache_folder(config.data_path), progress, size=parse_size(args.size),
        tile=args.tile, repeat=args.repeat, opacity=args.opacity, render=render,
        workers=args.workers, codebook=args.codebook,
    )  # fmt: skip
    print(
        f"{result['output']}: video mosaic {result['width']}x{result['height']}, "
        f"{result['frames']} frames at {result['fps']:g} fps"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    from pylapse.index.store import FrameIndex
    from pylapse.progress import Cancelled
    from pylapse.video.command import parse_size
    from pylapse.video.render import RenderError

    config = load_config_or_fail(args.config)
    progress, close = progress_bars(not args.no_progress and sys.stderr.isatty(), args.kind)
    try:
        with FrameIndex(config.index_location) as index:
            if args.kind == "photo":
                return _photo(args, config, index, progress)
            args.size = parse_size(args.size)
            make = _grid if args.kind == "grid" else _sunset
            result = make(args, config, index, progress)
    except (ValueError, RenderError) as exc:  # SelectionError and LayoutError are ValueErrors
        raise CommandError(str(exc)) from None
    except Cancelled as exc:
        raise CommandError(str(exc), 130) from None
    finally:
        close()
    tiles = result["tile_frames"]
    print(
        f"{result['output']}: {args.kind} mosaic {result['width']}x{result['height']}, "
        f"{result['frames']} frames at {result['fps']:g} fps ({tiles['fresh']} tile frames "
        f"found, {tiles['stale']} held over, {tiles['none']} empty)"
    )
    for gap in result.get("gaps", ()):
        print(f"  {gap}")
    return 0
