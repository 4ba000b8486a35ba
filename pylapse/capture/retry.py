"""One capture attempt with its bookkeeping, and the backoff policy for the next one.

An attempt checks the disk guard, takes the camera's busy flag (a camera still busy with an
earlier frame is skipped, never queued behind itself), captures, and records the outcome in the
health store and as one log line. It never sleeps and never raises for a camera fault: retrying
is the scheduler's business, as a separate one-off job (see :mod:`pylapse.capture.scheduler`), so a
waiting retry holds no thread and cannot delay the camera's next slot or any other camera.

A full disk is a pause, not a failure (no retries, no "offline"): the disk under the data folder
(the index row, health and capture log cannot be written) pauses every camera until the health store
finds room again (:meth:`~pylapse.capture.health.HealthStore.try_resume`), checked at each slot; a
full disk under a camera's frames pauses that camera until a frame can be written again, which each
slot tries. A frame written before its index row hit the full disk is kept and its row added once
there is room (the next scan would find it too: the file is the truth).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Executor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pylapse.capture import disk
from pylapse.capture.camera import NotIndexed, add_to_index
from pylapse.capture.disk import DiskGuard
from pylapse.capture.runpool import request_starting
from pylapse.progress import Cancelled
from pylapse.redact import mask_secrets
from pylapse.sources.base import GrabError, camera_secrets
from pylapse.storage import InvalidImage

if TYPE_CHECKING:
    from pylapse.capture.camera import Camera, CaptureResult, Grab
    from pylapse.capture.health import HealthStore
    from pylapse.index.store import FrameIndex

__all__ = ["Attempt", "AttemptRunner", "PauseListener", "RetryPolicy"]

log = logging.getLogger("pylapse.capture")

#: Told ``(camera id, its output folder, reason)`` when the disk guard pauses a camera's capture
#: (``reason`` None: resumed), from the capturing thread; it must return quickly.
PauseListener = Callable[[str, str, str | None], None]

MAX_RETRY_DELAY = 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    delay: float = 5.0  # seconds before the first retry; doubles for each further one

    def delay_for(self, attempt: int) -> float | None:
        """Seconds before retry number ``attempt + 1`` after ``attempt`` failed; None: give up."""
        if attempt >= self.max_retries:
            return None
        return min(MAX_RETRY_DELAY, self.delay * (2.0**attempt))


@dataclass(frozen=True)
class Attempt:
    """What one attempt did: exactly one of result / error / skipped is set."""

    result: CaptureResult | None = None
    error: str | None = None
    skipped: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


def _message(camera: Camera, exc: BaseException) -> str:
    if isinstance(exc, GrabError | InvalidImage):
        text = str(exc)
    elif isinstance(exc, OSError):
        text = f"cannot save frame: {exc.strerror or exc}" + (
            f" ({exc.filename})" if exc.filename else ""
        )
    else:  # a bug or an unexpected library error: keep the type, it is what a report needs
        text = f"{type(exc).__name__}: {exc}"
    return mask_secrets(text or type(exc).__name__, *camera_secrets(camera.config))


class AttemptRunner:
    """Runs attempts for any camera; shared by the scheduler and "grab now"."""

    def __init__(
        self,
        *,
        index: FrameIndex | None = None,
        health: HealthStore | None = None,
        guard: DiskGuard | None = None,
        cancel: threading.Event | None = None,
        processor: Executor | None = None,
        before_save: Callable[[], None] | None = None,
        on_pause: PauseListener | None = None,
        may_write: Callable[[str], str | None] | None = None,
        data_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.index = index
        # the data folder, whose disk a full database is said to be on: given, not derived from
        # the index (on PostgreSQL its path is no folder of ours); the health store's otherwise
        self.data_path = Path(
            data_path if data_path is not None else health.data_path if health else "."
        )
        # told when a camera's disk pause starts or ends (notifications), after health has it
        self.on_pause = on_pause
        # where validation, encoding and saving run (None: on the calling thread)
        self.processor = processor
        self.before_save = before_save  # runs on the processor first (see runpool)
        # asked right before a frame is written (Camera.save's refuse): a reason not to (the
        # camera's lease was lost to another host, see capture.leasekeeper) skips the attempt
        self.may_write = may_write
        self.health = health
        self.guard = guard or DiskGuard(0)
        self.cancel = cancel
        # the paused reason last written per camera: the database is touched only on a change,
        # keeping the shared health lock off the path between a slot firing and its request
        self._reasons: dict[str, str | None] = {}
        # cameras whose frame folder's disk was full at their last attempt, and why
        self._full_folders: dict[str, str] = {}
        # frames on disk whose index row waits for room on the data folder's disk
        self._unindexed: list[CaptureResult] = []
        self._unindexed_lock = threading.Lock()

    def forget_reason(self, camera_id: str) -> None:
        """Someone else changed the camera's paused reason: re-check it at the next attempt."""
        self._reasons.pop(camera_id, None)

    def _disk_ok(self, camera: Camera) -> str | None:
        """Why this attempt must be skipped (no room for the frame or the database), or None;
        the camera's health says it while it lasts."""
        skip = self.guard.check(camera.output_dir) or self._data_full()
        # a full frame folder stays shown while the attempt goes ahead: writing is the test
        self._show(camera, skip or self._full_folders.get(camera.id))
        return skip

    def _show(self, camera: Camera, reason: str | None) -> None:
        old = self._reasons.get(camera.id)
        if camera.id in self._reasons and old == reason:
            return
        self._reasons[camera.id] = reason
        changed = self.health.set_paused_reason(camera.id, reason) if self.health else True
        if changed and reason:
            log.warning("%s: %s", camera.id, reason)
        elif changed and self.health:
            why = f"free space under {camera.output_dir} is back"
            if disk.is_full_reason(old):
                why = "there is room on the disk again"
            log.info("%s: capture resumed: %s", camera.id, why)
        # told when capture stops or starts again, not when the free megabytes in the text move
        if changed and self.on_pause is not None and (old is None) != (reason is None):
            try:
                self.on_pause(camera.id, str(camera.output_dir), reason)
            except Exception:  # whoever listens must never stop capture
                log.exception("pause listener failed for %s", camera.id)

    def _data_full(self) -> str | None:
        """The reason while the database's disk is full; checks at each slot whether there is
        room again, and then writes what waited (index rows first, then health)."""
        full = self.health.full if self.health is not None else None
        if full is None and not self._unindexed:
            return None
        if not self._index_waiting() or (self.health is not None and not self.health.try_resume()):
            return full or (disk.data_full_reason(self.data_path) if self.index else None)
        self._full_folders.clear()  # the next attempt writes a frame anyway: that tests them
        return None

    def _index_waiting(self) -> bool:
        """Add the rows of frames saved while the disk was full; True when none is left."""
        with self._unindexed_lock:
            while self._unindexed and self.index is not None:
                result = self._unindexed[0]
                try:
                    add_to_index(self.index, result)
                except FileNotFoundError:  # deleted since: nothing to index
                    pass
                except Exception as exc:
                    if disk.is_disk_full(exc):
                        return False
                    raise
                self._unindexed.pop(0)
            return True

    def run(self, camera: Camera, when: datetime, attempt: int = 0, note: str = "") -> Attempt:
        """One attempt at the frame for ``when``; ``note`` ends the log line (e.g. retry info)."""
        reason = self._disk_ok(camera)
        if reason:
            return Attempt(skipped=reason)
        if not camera.busy.acquire(blocking=False):
            msg = "skipped: the previous capture of this camera is still running"
            log.warning("%s: %s %s", camera.id, when.isoformat(timespec="seconds"), msg)
            return Attempt(skipped=msg)
        started = time.monotonic()
        try:
            request_starting()
            grab = camera.fetch(when)
            save = functools.partial(self._save, camera, grab, started)
            result = self.processor.submit(save).result() if self.processor else save()
        except (Cancelled, CancelledError) as exc:
            return Attempt(skipped=str(exc) or "stopped")
        except NotIndexed as exc:  # saved, but the database's disk is full: keep the frame
            with self._unindexed_lock:
                self._unindexed.append(exc.result)
            if self.health is not None:
                self.health.mark_full()
            result = exc.result
        except Exception as exc:
            if self.cancel is not None and self.cancel.is_set():
                return Attempt(skipped="stopped")  # shutting down: not the camera's fault
            if disk.is_disk_full(exc):
                return self._folder_full(camera, exc)
            return self._failed(camera, when, attempt, exc, time.monotonic() - started, note)
        finally:
            camera.busy.release()
        self._succeeded(camera, result, attempt)
        return Attempt(result=result)

    def _folder_full(self, camera: Camera, exc: Exception) -> Attempt:
        """The frame could not be written: a pause of this camera until one can, not a failure.
        When the health store cannot be written either, its own pause (every camera) wins."""
        if not isinstance(exc, OSError) and self.index is not None:  # SQLite: the database's
            if self.health is not None:
                self.health.mark_full()
            reason = disk.data_full_reason(self.data_path)
            self._show(camera, reason)
            return Attempt(skipped=reason)
        reason = disk.folder_full_reason(camera.output_dir)
        if isinstance(exc, OSError) and exc.filename:
            log.debug("%s: %s: %s", camera.id, exc.filename, exc.strerror)
        self._full_folders[camera.id] = reason
        self._show(camera, reason)
        return Attempt(skipped=reason)

    def _save(self, camera: Camera, grab: Grab, started: float) -> CaptureResult:
        if self.before_save is not None:
            self.before_save()
        refuse = None if self.may_write is None else functools.partial(self.may_write, camera.id)
        return camera.save(grab, self.index, cancel=self.cancel, started=started, refuse=refuse)

    def _failed(
        self, camera: Camera, when: datetime, attempt: int, exc: Exception, took: float, note: str
    ) -> Attempt:
        error = _message(camera, exc)
        if not isinstance(exc, GrabError | InvalidImage | OSError):
            log.debug("%s: unexpected capture error", camera.id, exc_info=True)
        state = ""
        if self.health:
            new = self.health.record_failure(camera.id, when, error, duration=took, attempt=attempt)
            state = new.value if new is not None else ""
        tag = f" (retry {attempt})" if attempt else ""
        log.warning(
            "%s: %s FAILED%s after %.1f s: %s%s%s",
            camera.id,
            when.isoformat(timespec="seconds"),
            tag,
            took,
            error,
            f" [{state}]" if state else "",
            note,
        )
        return Attempt(error=error)

    def _succeeded(self, camera: Camera, result: CaptureResult, attempt: int) -> None:
        if self._full_folders.pop(camera.id, None) is not None:
            self._show(camera, None)  # a frame was written: the frame folder has room again
        state = ""
        if self.health:
            new = self.health.record_success(
                camera.id,
                result.time,
                path=result.path,
                frame_id=result.frame_id,
                size=result.size,
                digest=result.digest,
                stddev=result.stddev,
                duration=result.duration,
                attempt=attempt,
                # the scores capture computed: a re-encoded frozen picture and a frame far darker
                # than yesterday's are caught by them, not by the bytes
                luma=result.luma,
                hash_distance=result.hash_distance,
                luma_yesterday=result.luma_yesterday,
                grain=None if result.scores is None else result.scores.grain,
            )
            state = "" if new is None or new.value == "ok" else f" [{new.value}]"
        if result.frame_id is None and self.index is not None:
            state += "; not indexed yet: " + disk.data_full_reason(self.data_path)
        tag = f" (retry {attempt})" if attempt else ""
        log.info(
            "%s: %s saved %s%s (%d kB, %dx%d, luma %.0f) in %.2f s%s",
            camera.id,
            result.time.isoformat(timespec="seconds"),
            result.path,
            tag,
            result.size // 1024,
            result.width,
            result.height,
            result.luma,
            result.duration,
            state,
        )
