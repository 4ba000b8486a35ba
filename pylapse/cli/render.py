"""``pylapse render`` (= ``render_video.py``): a folder of frames to a video, with a progress bar.

The frames are the files directly in INPUT_DIR (pyLapse 0.2's flat layout) and in its day folders
(``INPUT_DIR/<YYYY-MM-DD>/``, today's layout): a camera folder that 0.2 filled flat and pyLapse
now fills per day renders whole, in time order, with a note on stderr saying so.

Every failure is one line on stderr and a non-zero exit: a missing folder, no matching frames, an
unknown codec, an unwritable output, an OUTPUT that exists (replaced only with ``--overwrite``,
or a free name taken with ``--rename``, as ffmpeg itself refuses without ``-y``), a codec the
ffmpeg in use lacks, ``--stabilise`` with an ffmpeg built without libvidstab, or ffmpeg itself
failing. Frames that could not go into the video are not a failure: the video is made without
them and each is listed on stderr with its reason.

``--deflicker [WINDOW]`` evens out brightness as ``pylapse export --deflicker`` does; a folder has
no stored luma, so each frame's is measured first from a quick draft decode.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from pylapse.cli import CommandError, progress_bars

__all__ = ["register", "run"]

_SHOWN = 20  # skipped frames listed on stderr; the manifest lists them all


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render a folder of frames to a video",
        description="Render the frames in INPUT_DIR and in its day folders (INPUT_DIR/YYYY-MM-DD/)"
        ", all in time order, to the video OUTPUT.",
    )
    parser.add_argument(
        "input_dir", metavar="INPUT_DIR", help="folder holding the frames, flat or in day folders"
    )
    parser.add_argument("output", metavar="OUTPUT", help="video file, e.g. timelapse.mp4")
    parser.add_argument("--fps", type=float, default=24.0, help="frames per second (default 24)")
    parser.add_argument("--pattern", default="*.jpg", help='file name glob (default "*.jpg")')
    parser.add_argument(
        "--codec", default="h264", help="h264 (default), h265, mpeg4, vp9 (.webm) or gif"
    )
    parser.add_argument(
        "--speed",
        choices=("draft", "final"),
        help="draft: a fast look (quick preset, a bit softer); final: the video to keep (slow "
        "preset, sharper). --crf and --preset win over it (default: the codec's defaults)",
    )
    parser.add_argument("--crf", type=int, help="quality: lower is better (codec default)")
    parser.add_argument("--preset", help="speed preset, ultrafast..veryslow (codec default)")
    parser.add_argument("--size", help="fit inside WIDTHxHEIGHT keeping the aspect ratio")
    parser.add_argument("--duration", type=float, help="target length in seconds (sets the fps)")
    parser.add_argument("--timezone", help="IANA zone of frame names without an offset")
    parser.add_argument("--ffmpeg", metavar="PATH", help="the ffmpeg to use")
    parser.add_argument("--config", metavar="PATH", help="take ffmpeg_path from this config")
    parser.add_argument(
        "--other-sizes",
        choices=("skip", "fit"),
        default="skip",
        help="frames whose size differs from most frames': skip them (default; each is "
        "listed) or fit them (scaled and padded in). Unreadable frames are always skipped",
    )
    parser.add_argument(
        "--deflicker",
        nargs="?",
        const=-1,
        type=int,
        metavar="WINDOW",
        help="even out frame-to-frame brightness (as export --deflicker) from each frame's "
        "luma, measured from quick draft decodes (optionally over WINDOW frames; default 13)",
    )
    parser.add_argument(
        "--stabilise",
        "--stabilize",
        action="store_true",
        help="steady a shaking camera with two vidstab passes (needs an ffmpeg built with "
        "libvidstab; pylapse doctor says whether yours is)",
    )
    exists = parser.add_mutually_exclusive_group()
    exists.add_argument(
        "-y", "--overwrite", action="store_true", help="replace OUTPUT if it exists"
    )
    exists.add_argument(
        "--rename",
        action="store_true",
        help="if OUTPUT exists, write NAME-2.mp4 (the first free name) beside it instead",
    )
    # unreadable frames are always skipped and listed now; kept so existing scripts still run
    parser.add_argument("--skip-corrupt", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _options(args: argparse.Namespace) -> Any:
    from pylapse.video.codecs import resolve_codec
    from pylapse.video.command import RenderOptions, parse_size

    try:
        codec = resolve_codec(args.codec)
        size = parse_size(args.size) if args.size else None
        return RenderOptions(
            fps=args.fps,
            duration=args.duration,
            codec=codec.name,
            crf=args.crf,
            preset=args.preset,
            speed=args.speed,
            size=size,
            other_sizes=args.other_sizes,
            ffmpeg_path=args.ffmpeg or _configured_ffmpeg(args.config),
            stabilise=args.stabilise,
            **_deflicker(args.deflicker),
        )
    except ValueError as exc:
        raise CommandError(_one_line(exc)) from None


def _deflicker(window: int | None) -> dict[str, Any]:
    """``--deflicker [WINDOW]`` as render options (-1: given without a window)."""
    if window is None:
        return {}
    return {"deflicker": True, **({"deflicker_window": window} if window != -1 else {})}


def _one_line(exc: BaseException) -> str:
    """The first line of an error, saying how many more there were."""
    lines = [line for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
    more = f" (and {len(lines) - 1} more problem(s))" if len(lines) > 1 else ""
    return lines[0] + more


def _configured_ffmpeg(path: str | None) -> str | None:
    if not path:
        return None
    from pylapse.config.file import load_config
    from pylapse.ffmpeg import configured_ffmpeg

    return configured_ffmpeg(load_config(path))  # ConfigError is a ValueError


def _check_output(output: Path, if_exists: str) -> None:
    """Refuse an unwritable or existing output before scanning thousands of frames."""
    parent = output.absolute().parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        raise CommandError(f"cannot write {output}: {existing} is not a folder")
    if output.is_dir():
        raise CommandError(f"cannot write {output}: it is a folder; give a file name")
    if if_exists == "error" and output.exists():
        raise CommandError(_exists(output))


def _exists(output: Path) -> str:
    return (
        f"{output} exists; nothing was replaced (--overwrite replaces it, --rename writes "
        "the video under the first free name beside it)"
    )


def _print_skipped(result: Any) -> None:
    """Each skipped frame with its reason, on stderr (the video itself is on stdout)."""
    shown = result.skipped[:_SHOWN]
    for frame in shown:
        print(f"skipped {frame.path}: {frame.reason}", file=sys.stderr)
    if len(result.skipped) > len(shown):
        more = len(result.skipped) - len(shown)
        print(f"... and {more} more (see {result.manifest})", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from pylapse import timeutil
    from pylapse.ffmpeg import FfmpegError, FfmpegNotFound
    from pylapse.progress import Cancelled
    from pylapse.video import render as video
    from pylapse.video.framelist import list_frame_files

    options = _options(args)
    output = Path(args.output)
    if_exists = "replace" if args.overwrite else "rename" if args.rename else "error"
    _check_output(output, if_exists)
    try:
        tz = timeutil.zone(args.timezone)
        files = list_frame_files(args.input_dir, args.pattern)
        frames = files.ordered(tz)
    except (FileNotFoundError, NotADirectoryError, ValueError) as exc:
        raise CommandError(_one_line(exc)) from None
    if files.mixed:  # never a surprise: say that both halves go in
        note = f"note: {files.describe()}; rendering all {len(frames)} in time order"
        print(note, file=sys.stderr)
    report, close = progress_bars(not args.no_progress, "Rendering")
    try:
        result = video.render_frames(
            frames, output, options, report, threading.Event(), if_exists=if_exists
        )
    except FileExistsError:  # it appeared while the frames were encoded
        raise CommandError(_exists(output)) from None
    except (ValueError, PermissionError, FfmpegNotFound, FfmpegError) as exc:
        raise CommandError(_one_line(exc)) from None
    except video.RenderError as exc:
        raise CommandError(_one_line(exc)) from None
    except Cancelled as exc:
        raise CommandError(str(exc), code=130) from None
    finally:
        close()
    seconds = result.frames / result.fps
    skipped = f"; {len(result.skipped)} frame(s) skipped" if result.skipped else ""
    fitted = f"; {result.fitted} frame(s) of other sizes fitted" if result.fitted else ""
    print(
        f"{result.output}: {result.frames} frames, {result.width}x{result.height}, "
        f"{result.fps:g} fps, {seconds:.1f} s (manifest {result.manifest.name}){skipped}{fitted}"
    )
    _print_skipped(result)
    return 0
