"""Which frames can go into a video: a cheap look at every frame before ffmpeg reads them.

One bad frame must never kill a render (a 1x1 placeholder a camera served once failed a whole
render with an ffmpeg error naming no file). Before encoding, every distinct file gets a header
read (Pillow, without decoding pixels) and a look at its last bytes:

- a file that cannot be opened, or is not an image, is skipped;
- a file in another format than the video's frames (a PNG among JPEGs) is skipped: ffmpeg's
  concat input decodes every file with the first file's decoder;
- a JPEG or PNG without its end marker is *suspect* (cut off, or a phone's trailer after the
  image); only suspects are decoded in full, and skipped when that fails;
- a frame whose size differs from the video's frame size (the most common size) is skipped, or
  with ``other_sizes="fit"`` scaled and padded into the video.

Every skipped frame is reported by name with its reason. The look costs one open and two small
reads per file (about 40 µs on a local disk: 4 s for 100,000 frames; threads overlap a network
share's latency), so a render never decodes all its frames in Python first. Frames ffmpeg still
cannot decode are found after the encode, only around the places its error output points at
(:func:`undecodable`).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import accumulate
from typing import Any

from pylapse import storage
from pylapse.progress import Cancelled
from pylapse.video.framelist import ListEntry, NoFramesError

__all__ = [
    "FrameCheck",
    "OtherSizes",
    "SkippedFrame",
    "check_frames",
    "decode_problem",
    "drop_frames",
    "entry_at",
    "map_threaded",
    "near",
    "undecodable",
]

_CHUNK = 256  # files per thread task: large enough that scheduling costs nothing
_THREADS = 8  # for calls that wait (a network share, a decoder that releases the GIL)
_WAITING = 200e-6  # seconds per call above which calls are taken to be waiting
_TAIL = 32  # bytes read from the end of each file for its end marker
_JPEG_END = b"\xff\xd9"
_PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk's type and CRC, as storage.validate_image checks
_SEARCH = 400  # frames after an ffmpeg error that may still be in its pipeline (x264 lookahead)
_SEARCH_LIMIT = 5000  # full decodes at most, after one encode


class OtherSizes(StrEnum):
    """What a render does with a frame whose size differs from the video's frame size."""

    SKIP = "skip"  # leave it out and list it
    FIT = "fit"  # scale it into the video keeping its aspect ratio, padding the rest


@dataclass(frozen=True, slots=True)
class SkippedFrame:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class FrameCheck:
    """The entries to encode, the frames left out, and the video's frame size before fitting."""

    entries: list[ListEntry]
    skipped: list[SkippedFrame]
    size: tuple[int, int]
    fitted: int  # frames of another size scaled into the video (``other_sizes="fit"``)


@dataclass(frozen=True, slots=True)
class _Look:
    format: str
    size: tuple[int, int]
    suspect: bool  # no end marker: decoded in full before it is used
    problem: str = ""  # set when the file cannot be used at all


def _look(path: str) -> _Look:
    """Header and end marker of one file; never decodes the pixels."""
    from PIL import Image

    try:
        with open(path, "rb") as handle:
            with Image.open(handle) as image:
                kind, size = image.format or "?", image.size
            handle.seek(0, os.SEEK_END)
            length = handle.tell()
            handle.seek(max(0, length - _TAIL))
            tail = handle.read()
    except FileNotFoundError:
        return _Look("", (0, 0), False, "the file is gone")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if "truncat" in str(exc).lower():  # ends inside its headers
            return _Look(
                "", (0, 0), False, _short(f"cut off or damaged: headers end early ({exc})")
            )
        return _Look("", (0, 0), False, _short(f"not a readable image ({exc})"))
    if kind == "JPEG":
        suspect = not tail.rstrip(b"\x00\r\n ").endswith(_JPEG_END)
    else:
        suspect = kind == "PNG" and not tail.endswith(_PNG_END)
    return _shared(kind, size, suspect)


@functools.lru_cache(maxsize=256)
def _shared(kind: str, size: tuple[int, int], suspect: bool) -> _Look:
    """One object per kind of look: a million frames of one size hold a million pointers."""
    return _Look(kind, size, suspect)


def decode_problem(path: str) -> str:
    """Why ``path`` cannot be decoded in full, or ``""`` when it can.

    A JPEG is decoded at 1/8 scale (DCT scaling reads every byte of the image data but skips
    most of the pixel work), which finds a cut-off or damaged file as a full decode does."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.format == "JPEG":
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
    except FileNotFoundError:
        return "the file is gone"
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return _short(f"cannot be decoded ({exc})")
    return ""


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."


def map_threaded(fn: Callable[[str], Any], paths: Sequence[str],
                progress: Callable[[int], None] | None = None,
                cancel: threading.Event | None = None) -> list[Any]:  # fmt: skip
    """``fn`` over ``paths``, results in order; ``progress(done)`` after each chunk.

    The first chunk runs here and is timed. Calls that take long are mostly waiting (a network
    share's latency, Pillow's decoder, ffmpeg), so the rest run in threads; quick ones are
    Python work, which threads only slow down (three times slower with eight on a local disk,
    measured), so they stay here."""
    chunks = [paths[i : i + _CHUNK] for i in range(0, len(paths), _CHUNK)]
    out: list[Any] = []

    def take(part: list[Any]) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"cancelled after checking {len(out)} of {len(paths)} frames")
        out.extend(part)
        if progress is not None:
            progress(len(out))

    started = time.perf_counter()
    for chunk in chunks[:1]:
        take([fn(p) for p in chunk])
    waiting = (time.perf_counter() - started) / max(1, len(out)) > _WAITING
    if not waiting or len(chunks) < 2:
        for chunk in chunks[1:]:
            take([fn(p) for p in chunk])
        return out
    with ThreadPoolExecutor(
        min(_THREADS, len(chunks) - 1), thread_name_prefix="framecheck"
    ) as pool:
        parts = pool.map(lambda chunk: [fn(p) for p in chunk], chunks[1:])
        try:
            for part in parts:
                take(part)
        except Cancelled:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return out


def _most_common(values: Iterable[object]) -> object:
    """The most frequent value; on a tie the first seen."""
    return Counter(values).most_common(1)[0][0]


def check_frames(
    entries: Sequence[ListEntry],
    other_sizes: str = OtherSizes.SKIP,
    fill_gaps: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    roots: Iterable[str | os.PathLike[str]] = (),
) -> FrameCheck:
    """Look at every distinct file of ``entries`` once (see the module's doc) and decide.

    With ``roots`` (the dashboard's storage roots and the collection's folder), a frame whose
    file does not resolve inside them (swapped for a link out since it was indexed) is left out.
    ``progress(done, total)`` counts distinct files. Raises :class:`NoFramesError` naming the
    first problems when no frame is usable."""
    policy = OtherSizes(other_sizes)
    paths = list(dict.fromkeys(e.path for e in entries))
    bad: dict[str, str] = {}
    roots = list(roots)
    if roots:
        real_roots = storage.resolved_roots(roots)
        for p in paths:
            if not storage.within(os.path.realpath(p), real_roots):
                bad[p] = "its file does not lie inside the storage roots (a link out of them?)"
    looked = [p for p in paths if p not in bad]
    report = (lambda done: progress(done, len(looked))) if progress else None
    looks: list[_Look] = map_threaded(_look, looked, report, cancel)
    bad.update((p, look.problem) for p, look in zip(looked, looks, strict=True) if look.problem)
    readable = [(p, look) for p, look in zip(looked, looks, strict=True) if not look.problem]
    if not readable:
        first = "; ".join(f"{p}: {r}" for p, r in list(bad.items())[:3])
        raise NoFramesError(f"none of the {len(paths)} frames is a readable image ({first})")
    kind = _most_common(look.format for _, look in readable)
    size = _most_common(look.size for _, look in readable if look.format == kind)
    assert isinstance(size, tuple)
    fitted = 0
    for p, look in readable:
        if look.format != kind:
            bad[p] = f"a {look.format} among {kind} frames (ffmpeg reads one format per video)"
        elif look.size != size:
            if policy is OtherSizes.SKIP:
                w, h = look.size
                bad[p] = (f"{w}x{h}, not the video's {size[0]}x{size[1]} "
                          "(choose 'fit' for frames of other sizes to scale it in)")  # fmt: skip
            else:
                fitted += 1
    suspects = [p for p, look in readable if look.suspect and p not in bad]
    for p, problem in zip(suspects, map_threaded(decode_problem, suspects), strict=True):
        if problem:
            bad[p] = f"cut off or damaged: no end-of-image marker, and it {problem}"
    kept = drop_frames(entries, bad.keys(), fill_gaps)
    if not kept:
        first = "; ".join(f"{p}: {r}" for p, r in list(bad.items())[:3])
        raise NoFramesError(f"all {len(paths)} frames were skipped ({first})")
    skipped = [SkippedFrame(p, bad[p]) for p in paths if p in bad]
    return FrameCheck(kept, skipped, size, fitted)


def drop_frames(entries: Sequence[ListEntry], paths: Iterable[str], fill_gaps: bool = False
                ) -> list[ListEntry]:  # fmt: skip
    """``entries`` without ``paths``. With ``fill_gaps`` a dropped frame is a gap like any
    other: the frame before it is shown for its time, so the video keeps its length."""
    drop = set(paths)
    if not drop:
        return list(entries)
    kept: list[ListEntry] = []
    for entry in entries:
        if entry.path not in drop:
            kept.append(entry)
        elif fill_gaps and kept:
            last = kept[-1]
            kept[-1] = replace(last, repeats=last.repeats + entry.repeats)
    return kept


def near(entries: Sequence[ListEntry], positions: Iterable[int], span: int = _SEARCH
         ) -> list[str]:  # fmt: skip
    """Distinct paths of the ``span`` entries from each output frame count in ``positions``:
    where ffmpeg's pipeline (x264's lookahead, thread queues) may have been when it printed
    an error, as the count lags the frame being decoded."""
    starts = list(accumulate((e.repeats for e in entries), initial=0))
    found: dict[str, None] = {}
    for position in sorted(set(positions)):
        first = min(max(0, bisect_right(starts, position) - 1), len(entries) - 1)
        found.update(dict.fromkeys(e.path for e in entries[first : first + span]))
    return list(found)


def undecodable(entries: Sequence[ListEntry], positions: Iterable[int],
                named: Iterable[str] = ()) -> list[SkippedFrame]:  # fmt: skip
    """Frames that do not decode in full, among ``named`` paths (ffmpeg quoted them) and those
    :func:`near` ``positions``; at most :data:`_SEARCH_LIMIT` files are decoded."""
    candidates = list(dict.fromkeys([*named, *near(entries, positions)]))[:_SEARCH_LIMIT]
    problems = map_threaded(decode_problem, candidates)
    return [SkippedFrame(p, r) for p, r in zip(candidates, problems, strict=True) if r]


def entry_at(entries: Sequence[ListEntry], position: int) -> ListEntry | None:
    """The entry that makes output frame ``position`` (0-based), or None past the end."""
    done = 0
    for entry in entries:
        done += entry.repeats
        if position < done:
            return entry
    return None
