"""Retention once a day, for whatever runs capture (``pylapse capture``, the dashboard).

Each camera with retention enabled runs once a day, at the first check after ``DAILY_HOUR``
o'clock in the camera's zone. When it last ran is kept in its trash folder
(``.trash/last_run``, UTC seconds, written atomically), so a restart does not run it again and
a machine that was off at that hour runs it at the next check. A camera's failure is logged
and never stops the others or capture.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import storage, timeutil
from pylapse.config.models import Config
from pylapse.retention.journal import TRASH
from pylapse.tasks.retention import camera_retention, cameras_with_retention, run_retention

if TYPE_CHECKING:
    from pylapse.index.store import FrameIndex

__all__ = ["CHECK_EVERY", "DAILY_HOUR", "DailyRetention", "due", "last_run", "run_due"]

log = logging.getLogger(__name__)

DAILY_HOUR = 3  # local hour a camera's daily run is due from (few frames, little else running)
CHECK_EVERY = 600.0  # seconds between checks
_STAMP = "last_run"


def last_run(root: Path) -> float | None:
    """UTC seconds the daily run of the camera whose folder is ``root`` last started."""
    try:
        return float((root / TRASH / _STAMP).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def due(root: Path, zone: Any, now: float, hour: int = DAILY_HOUR) -> bool:
    """Whether the daily run is due at ``now``: the latest ``hour`` o'clock (camera's zone)
    before ``now`` came after the last run."""
    local = datetime.fromtimestamp(now, zone)
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=None)
    if local.replace(tzinfo=None) < slot:
        slot -= timedelta(days=1)
    slot_utc = timeutil.localize(slot, zone).timestamp()
    last = last_run(root)
    return last is None or last < slot_utc


def run_due(
    config: Config,
    index: FrameIndex,
    now: float,
    hour: int = DAILY_HOUR,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run every camera whose daily retention is due; camera id -> its summary or error."""
    out: dict[str, Any] = {}
    for camera_id in cameras_with_retention(config):
        try:
            setup = camera_retention(config, camera_id)
            if not due(setup.root, setup.zone, now, hour):
                continue
            storage.atomic_write(setup.root / TRASH / _STAMP, f"{now}\n".encode("ascii"))
            out[camera_id] = run_retention(config, camera_id, index, now=now, cancel=cancel)
            log.info("daily retention of %s: moved %s frames", camera_id, out[camera_id]["moved"])
        except Exception as exc:  # one camera's trouble must not stop the others or capture
            log.exception("daily retention of %s failed", camera_id)
            out[camera_id] = {"error": str(exc)}
    return out


class DailyRetention:
    """A thread checking every ``every`` seconds which cameras' daily run is due."""

    def __init__(
        self, config: Callable[[], Config], index: FrameIndex, every: float = CHECK_EVERY
    ) -> None:
        self._config, self._index, self._every = config, index, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="pylapse-retention", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            run_due(self._config(), self._index, time.time(), cancel=self._stop)
