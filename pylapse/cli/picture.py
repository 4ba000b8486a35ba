"""``pylapse picture KIND``: one picture from many frames of a collection.

One-day kinds (``--date YYYY-MM-DD``; or ``--from``/``--to``, a picture per day saved in
``--output-dir`` as ``<collection>-<kind>-<day>.png``): daystrip (one row per slot), keogram
(one column per slot), timeslice (the day swept left to right), nightstack (per-pixel max over
the night after the date, sunset + 1 h to sunrise - 1 h; ``--negative``), daystack (per-pixel
min over the day).
``--movie PATH`` also draws a daystrip into a video, slot by slot; ``timewarp`` is a video
(``--output`` .mp4) whose frames are slit-scans of ``--band``-column bands of consecutive slots.
``colormap`` (``--from``/``--to``) colours one pixel per slot, one row per day, from the sky colours
``pylapse metrics`` stored, and also writes a 1920x1080 copy. A JSON manifest of the frames and
options is written beside the picture. Run ``pylapse index`` first.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pylapse.cli import CommandError, add_config_option, load_config_or_fail, progress_bars

if TYPE_CHECKING:
    from pylapse.config.models import Config
    from pylapse.pictures.kinds import PictureKind

__all__ = ["register", "run"]

KINDS = ("daystrip", "keogram", "timeslice", "nightstack", "daystack", "colormap", "timewarp")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size WxH (1920x1080)") from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "picture",
        help="make a daystrip, keogram, time slice, night/day stack or colour map",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("kind", choices=KINDS, help="which picture")
    parser.add_argument("--collection", required=True, metavar="ID", help="collection or camera")
    parser.add_argument("--date", type=_day, help="the day (one-day kinds)")
    parser.add_argument("--from", dest="date_from", type=_day,
                        help="first day (colormap; one-day kinds: a picture per day)")  # fmt: skip
    parser.add_argument("--to", dest="date_to", type=_day, help="last day (as --from)")
    parser.add_argument("--output", type=Path, help=".png, .jpg, .tif or .webp (one picture)")
    parser.add_argument("--output-dir", type=Path, metavar="DIR",
                        help="where pictures by day go (default: pictures/ in the first "
                        "storage root)")  # fmt: skip
    parser.add_argument("--row", type=int, help="daystrip: the frame row (default: the middle)")
    parser.add_argument("--column", type=int, help="keogram: the frame column (default: middle)")
    parser.add_argument("--scale", type=int, default=1, choices=(1, 2, 4, 8),
                        help="decode at 1/SCALE of full size (faster; default 1)")  # fmt: skip
    parser.add_argument("--slot-width", type=float, metavar="SECONDS",
                        help="seconds per slot (default: the camera's interval, else the "
                        "frames' typical spacing)")  # fmt: skip
    parser.add_argument("--negative", action="store_true", help="nightstack: save its negative")
    parser.add_argument("--stat", choices=("mean", "median", "max"), default="mean",
                        help="colormap: which stored colour (default mean)")  # fmt: skip
    parser.add_argument("--workers", type=int, help="decoding threads (default: one per core)")
    parser.add_argument("--movie", type=Path, metavar="PATH",
                        help="daystrip: also a video of it drawn slot by slot (.mp4)")  # fmt: skip
    parser.add_argument("--movie-size", type=_size, default=(1920, 1080), metavar="WxH",
                        help="the movie's size (default 1920x1080)")  # fmt: skip
    parser.add_argument("--movie-fps", type=float, default=30.0, help="default 30")
    parser.add_argument("--movie-seconds", type=float, default=20.0, help="default 20")
    parser.add_argument("--band", type=int, default=4, help="timewarp: columns a slot gives")
    add_config_option(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pylapse.collection import Collection
    from pylapse.ffmpeg import FfmpegError
    from pylapse.index.store import FrameIndex
    from pylapse.pictures.kinds import PictureError, PictureKind
    from pylapse.pictures.movie import StripMovie
    from pylapse.pictures.request import PictureRequest
    from pylapse.selection.targets import SelectionError
    from pylapse.tasks.picture import configured_request, make_and_save

    config = load_config_or_fail(args.config)
    if args.kind == "timewarp":
        return _timewarp(args, config)
    kind = PictureKind(args.kind)
    if kind is PictureKind.COLORMAP and (args.date_from is None or args.date_to is None):
        raise CommandError("colormap needs --from and --to")
    if kind is not PictureKind.COLORMAP and (args.date_from or args.date_to):
        return _by_day(args, config, kind)
    if kind is not PictureKind.COLORMAP and args.date is None:
        raise CommandError(f"{kind} needs --date YYYY-MM-DD (or --from and --to: one per day)")
    if args.output is None:
        raise CommandError(f"{kind} needs --output FILE (.png, .jpg, .tif or .webp)")
    if args.output_dir is not None:
        raise CommandError("--output-dir is for pictures by day (--from and --to)")
    request = PictureRequest(
        kind, day=args.date, date_from=args.date_from, date_to=args.date_to, row=args.row,
        column=args.column, scale=args.scale, slot_width=args.slot_width,
        negative=args.negative, stat=args.stat, workers=args.workers,
    )  # fmt: skip
    progress, close = progress_bars(not args.no_progress and sys.stderr.isatty(), str(kind))
    failures = (PictureError, SelectionError, FfmpegError)
    with _reported(close, *failures), FrameIndex(config.index_location) as index:
        collection = Collection.from_config(config, args.collection, index)
        request = configured_request(config, args.collection, request)
        movie = None
        if args.movie is not None:
            movie = StripMovie(args.movie, args.movie_size, args.movie_fps, args.movie_seconds)
        result = make_and_save(collection, request, args.output, progress, movie=movie)
    made = [*result["variants"], *([result["movie"]] if result["movie"] else [])]
    extra = "".join(f", and {v}" for v in made)
    print(
        f"{result['output']}: {kind} {result['width']}x{result['height']} from "
        f"{result['frames']} frames{extra}"
    )
    return 0


@contextlib.contextmanager
def _reported(close: Callable[[], None], *errors: type[Exception]) -> Iterator[None]:
    """``errors`` as one-line command errors, a cancel as exit code 130; the bars closed."""
    from pylapse.progress import Cancelled

    try:
        yield
    except errors as exc:
        raise CommandError(str(exc)) from None
    except Cancelled as exc:
        raise CommandError(str(exc), 130) from None
    finally:
        close()


def _by_day(args: argparse.Namespace, config: Config, kind: PictureKind) -> int:
    """A one-day picture for each day from ``--from`` to ``--to``
    (:func:`pylapse.tasks.picture.make_days`: here, or a day a task on the Celery workers)."""
    from pylapse.collection import Collection
    from pylapse.index.store import FrameIndex
    from pylapse.pictures.kinds import PictureError
    from pylapse.pictures.request import PictureRequest
    from pylapse.selection.targets import SelectionError
    from pylapse.tasks.picture import day_range, make_days, pictures_folder

    if args.date_from is None or args.date_to is None:
        raise CommandError(f"a {kind} by day needs both --from and --to (YYYY-MM-DD)")
    for option, value in (("--date", args.date), ("--output", args.output),
                          ("--movie", args.movie)):  # fmt: skip
        if value is not None:
            raise CommandError(
                f"{option} is for one picture; --from and --to make one per day (in --output-dir)"
            )
    try:
        day_range(args.date_from, args.date_to)
    except PictureError as exc:
        raise CommandError(f"--from {args.date_from} --to {args.date_to}: {exc}") from None
    folder = args.output_dir or pictures_folder(config)
    if folder is None:
        raise CommandError("no storage roots are configured to hold pictures: pass --output-dir")
    request = PictureRequest(
        kind, row=args.row, column=args.column, scale=args.scale, slot_width=args.slot_width,
        negative=args.negative, workers=args.workers,
    )  # fmt: skip
    shown = not args.no_progress and sys.stderr.isatty()
    progress, close = progress_bars(shown, f"{kind} by day")
    failures = (PictureError, SelectionError, OSError)
    with _reported(close, *failures), FrameIndex(config.index_location) as index:
        collection = Collection.from_config(config, args.collection, index)
        result = make_days(config, collection, args.collection, request, args.date_from,
                           args.date_to, progress, output_dir=folder)  # fmt: skip
    for made in result["pictures"]:
        print(f"{made['output']}: {kind} {made['width']}x{made['height']} from "
              f"{made['frames']} frames")  # fmt: skip
    if result["empty_days"]:
        print(f"no frames on {', '.join(result['empty_days'])}: no picture for those days")
    return 0


def _timewarp(args: argparse.Namespace, config: Config) -> int:
    from pylapse.collection import Collection
    from pylapse.ffmpeg import FfmpegError, FfmpegNotFound
    from pylapse.index.store import FrameIndex
    from pylapse.pictures.kinds import PictureError, PictureKind
    from pylapse.pictures.make import make_timewarp
    from pylapse.pictures.request import PictureRequest
    from pylapse.selection.targets import SelectionError
    from pylapse.tasks.picture import configured_request

    if args.date is None:
        raise CommandError("timewarp needs --date YYYY-MM-DD")
    if args.output is None:
        raise CommandError("timewarp needs --output FILE (.mp4)")
    request = PictureRequest(PictureKind.TIMESLICE, day=args.date, scale=args.scale,
                             slot_width=args.slot_width, workers=args.workers)  # fmt: skip
    progress, close = progress_bars(not args.no_progress and sys.stderr.isatty(), "timewarp")
    try:
        with FrameIndex(config.index_location) as index:
            collection = Collection.from_config(config, args.collection, index)
            request = configured_request(config, args.collection, request)
            out = make_timewarp(collection, request, args.output, band=args.band,
                                fps=args.movie_fps, progress=progress)  # fmt: skip
    except (PictureError, SelectionError, FfmpegError, FfmpegNotFound) as exc:
        raise CommandError(str(exc)) from None
    finally:
        close()
    print(f"{out}: timewarp")
    return 0
