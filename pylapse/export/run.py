"""Export: selected frames -> numbered, processed files in a folder, in parallel, non-destructively.

``run_export(selection, "/exports/day", ExportOptions(width=1920, height=1080,
drawtimestamp=True))`` writes ``000001.jpg``, ``000002.jpg``, ... in time order (as many digits
as the count needs, at least six, so names sort right past 99,999 frames). Frames are processed
by a pool of worker processes in small chunks, each worker loading its fonts once, and by this
process itself until the pool has started. A frame that
cannot be read is skipped and reported; numbering stays gap-free for ffmpeg. The previous export
in the folder stays intact until the new one is complete (see :mod:`pylapse.export.staging`).
Options live in :mod:`pylapse.export.options`, the per-frame work in :mod:`pylapse.export.worker`.

When no processing is asked for, frames are hard-linked (copied across file systems) instead of
re-encoded: exporting a year of frames for a render then costs seconds. Note that a hard link
*is* the source frame, so edit exported files only after copying them.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pylapse.export import pool as workerpool
from pylapse.export.options import ExportOptions
from pylapse.export.staging import ExportError, NameSet, Staging
from pylapse.export.worker import (
    FrameWriter,
    Item,
    Outcome,
    Tone,
    init_worker,
    item,
    process_chunk,
)
from pylapse.imaging import deflicker
from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report

__all__ = [
    "ExportResult",
    "finish_export",
    "frames_in",
    "run_export",
]


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


def _in_time_order(frames: Sequence[Any]) -> Sequence[Any]:
    """``frames`` itself when already in time order (the usual case), else a sorted copy."""
    last = float("-inf")
    for frame in frames:
        utc = item(frame)[1]
        if utc is None:
            continue
        if utc < last:
            return sorted(frames, key=lambda f: item(f)[1] or 0.0)
        last = utc
    return frames


def _chunks(frames: Iterable[Any], size: int, output_dir: Path) -> Iterator[list[tuple[int, Item]]]:
    chunk: list[tuple[int, Item]] = []
    for number, frame in enumerate(frames, start=1):
        entry = item(frame)
        if Path(os.path.abspath(entry[0])).parent == output_dir:
            raise ExportError(
                f"{entry[0]} is a source frame inside the export folder {output_dir}; "
                "export to a separate folder"
            )
        chunk.append((number, entry))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- the parent side -----------------------------------------------------------------------------


def _pool(
    workers: int, options: ExportOptions, staging: Path, count: int, roots: tuple[str, ...]
) -> cf.Executor:
    # workers never import the caller's main module, so a script without a main guard works
    return workerpool.process_pool(
        workers,
        initializer=init_worker,
        initargs=(options, str(staging), count, os.getpid(), roots),
        # simplejpeg (and numpy under it) too, when installed: imported once, not per worker
        preload=["pylapse.export.run", "simplejpeg"],
    )


def _start_workers(pool: cf.Executor, workers: int) -> None:
    """Start the pool's ``workers`` processes (a trivial call for each)."""
    for _ in range(workers):
        pool.submit(os.getpid)


def _close_gaps(staging: Path, names: NameSet, skipped_numbers: set[int]) -> None:
    """Renumber written files in order so ffmpeg sees 1..written without holes."""
    target = names.resized(names.count - len(skipped_numbers))
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
    *,
    roots: Iterable[str | os.PathLike[str]] = (),
) -> ExportResult:
    """Export frames (a ``Selection``, or a sequence of index Frames, (path, time) pairs or
    paths) into ``output_dir``; see the module docstring. Raises :class:`Cancelled` when
    ``cancel`` is set (the previous export is then untouched) and :class:`ExportError` when the
    export cannot start.

    With ``roots`` (the dashboard's storage roots), a frame whose file does not resolve inside
    one of them when it is read (a file replaced by a link out of them since it was indexed) is
    skipped with that reason instead of exported.
    """
    options = options or ExportOptions()
    real_roots = tuple(os.path.join(os.path.realpath(r), "") for r in roots)
    total, frames, tones = frames_in(frames_or_selection, options)
    started = time.monotonic()
    names = options.names(total)
    with Staging(output_dir) as staging:
        staging.check_conflicts(names)
        assert staging.path is not None
        skipped: dict[int, tuple[str, str]] = {}
        linked, produced = _run_pool(
            frames, staging, options, total, skipped, progress, cancel, started, real_roots, tones
        )
        return finish_export(staging, names, produced, skipped, linked, started)


def frames_in(
    frames_or_selection: Any, options: ExportOptions
) -> tuple[int, Iterable[Any], list[Tone] | None]:
    """(how many, the frames in time order, their deflicker tones when asked) of what
    :func:`run_export` accepts; ``ExportError`` when there is nothing to export."""
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
    tones: list[Tone] | None = None
    if options.deflicker:
        if hasattr(frames_or_selection, "iter_frames"):
            # the luma curve is read from the index up front (floats only); frames are then
            # streamed again for the export itself
            tones = _tones(list(frames_or_selection.iter_frames()), options)
        else:
            frames = list(frames)
            tones = _tones(frames, options)
    return total, frames, tones


def finish_export(
    staging: Staging,
    names: NameSet,
    produced: int,
    skipped: dict[int, tuple[str, str]],
    linked: int,
    started: float,
) -> ExportResult:
    """Number the written frames without gaps and swap them in (inside ``with staging``).
    ``produced``: the last frame number handed out; ``skipped``: frames that could not be read
    by number, with their path and why."""
    assert staging.path is not None
    total = names.count
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
    staging.commit(names.resized(written))
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
    roots: tuple[str, ...] = (),
    tones: list[Tone] | None = None,
) -> tuple[int, int]:
    """Feed chunks to the workers, a bounded number in flight; returns (linked, frames seen)."""
    assert staging.path is not None
    workers = max(1, min(options.workers, total))
    # small chunks keep cancel quick (a running chunk is finished, not interrupted); linking
    # is cheap per frame, so bigger chunks there save round trips
    largest = 4 if options.processes_pixels else 64
    chunk_size = max(1, min(largest, total // (workers * 8)))
    chunks = _chunks(frames, chunk_size, staging.output_dir)
    done = linked = produced = 0
    safe_report(progress, Progress("process", 0, total))
    # Starting the pool takes a few tenths of a second (the forkserver imports pyLapse, numpy
    # and the codecs, then forks), a fifth of a short export, and the pool's first submit
    # blocks until then. So the workers are started on a thread, and until the first chunk
    # comes back from the pool this process writes chunks too, one at a time on another thread
    # (the codecs release the GIL) with its own writer; then it leaves the cores to the pool.
    with (
        _pool(workers, options, staging.path, total, roots) as pool,
        cf.ThreadPoolExecutor(2, thread_name_prefix="export-start") as here,
    ):
        starting = here.submit(_start_workers, pool, workers)
        writers: list[FrameWriter] = []  # made on the thread that writes, when first needed

        def write_here(chunk: list[tuple[int, Item]], part: dict[int, Tone] | None) -> Any:
            if not writers:
                writers.append(FrameWriter(options, str(staging.path), total, roots))
            return writers[0].process_chunk(chunk, part)

        pending: set[cf.Future[list[Outcome]]] = set()
        local: cf.Future[list[Outcome]] | None = None  # the chunk this process is writing
        warm = False  # a chunk came back from the pool: its workers are running
        try:
            while True:
                while True:
                    here_free = not warm and local is None
                    in_pool = len(pending) - (local is not None)
                    pool_free = starting.done() and in_pool < workers * 3
                    if not (here_free or pool_free):
                        break
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    produced = chunk[-1][0]
                    part = {n: tones[n - 1] for n, _ in chunk if n <= len(tones)} if tones else None
                    if here_free:
                        local = here.submit(write_here, chunk, part)
                        pending.add(local)
                    else:
                        pending.add(pool.submit(process_chunk, chunk, part))
                if not pending:
                    break
                # until the workers are started, wake when they are, to hand them chunks
                watched: set[cf.Future[Any]] = set(pending)
                if not starting.done():
                    watched.add(starting)
                finished = cf.wait(watched, 0.2, cf.FIRST_COMPLETED).done - {starting}
                pending -= finished
                if starting.done():
                    starting.result()  # the pool could not start: say why
                if cancel is not None and cancel.is_set():
                    raise Cancelled("export cancelled; the previous export was left as it was")
                for future in finished:
                    if future is local:
                        local = None
                    else:
                        warm = True
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


def _draft_luma(path: str) -> float | None:
    """A frame's mean luma from a JPEG draft decode (an eighth of its size; a few ms), for
    frames exported with deflicker whose luma no one stored; None when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))
            return deflicker.measure_luma(image)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _tones(frames: Sequence[Any], options: ExportOptions) -> list[Tone] | None:
    """Each frame's deflicker target and stored luma (None: the worker measures it when it
    decodes the frame). The targets come from the stored luma curve; only when no frame has a
    stored luma is the curve measured here first, from cheap draft decodes."""
    lumas: list[float | None] = [getattr(f, "luma", None) for f in frames]
    if all(v is None for v in lumas):
        lumas = [_draft_luma(item(f)[0]) for f in frames]
    aims = deflicker.targets(lumas, options.deflicker_window)
    if not any(t is not None for t in aims):
        return None  # no frame could be measured: nothing to even out against
    return [(t or 1.0, v) for t, v in zip(aims, lumas, strict=True)]


def _progress(done: int, total: int, started: float, skipped: int) -> Progress:
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = done / elapsed
    eta = (total - done) / rate if rate > 0 else None
    message = f"{skipped} unreadable frame(s) skipped" if skipped else ""
    return Progress("process", done, total, rate=rate, eta=eta, message=message)
