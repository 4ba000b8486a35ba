"""A scheduler's live cameras over their life: set up before their first slot, swept of the
temp files a crash (or a dead holder of their lease) left, and closed when a reload replaced
them, once the capture they may be running ends.

:class:`~pylapse.capture.scheduler.CaptureScheduler` decides when (start, a config reload, a
lease taken over); these say how, each on one :class:`~pylapse.capture.camera.Camera`.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from pylapse import storage, timeutil
from pylapse.capture.camera import Camera

__all__ = ["prepare_camera", "retire_camera", "sweep_camera_temp"]

# the scheduler's logger: these lines are part of its story
log = logging.getLogger("pylapse.capture")


def prepare_camera(camera: Camera) -> None:
    """Set the source up before the first slot (see :meth:`Camera.prepare`); a camera that
    cannot even be set up is reported by its first capture attempt, not here."""
    try:
        camera.prepare()
    except Exception as exc:
        log.debug("%s: prepare failed: %s", camera.id, exc)


def sweep_camera_temp(camera: Camera) -> None:
    """Remove temp files left in the camera's today's and yesterday's day folders."""
    now = timeutil.now(camera.zone)
    for day in (now, now - timedelta(days=1)):
        for path in storage.sweep_temp(camera.path_for(day).parent):
            log.info("%s: removed leftover temp file %s", camera.id, path)


def retire_camera(camera: Camera) -> None:
    """Close a camera replaced by a reload, after the capture it may be running finishes."""
    if camera.busy.acquire(blocking=False):
        try:
            camera.close()
        finally:
            camera.busy.release()
        return

    def close_when_idle() -> None:
        with camera.busy:
            camera.close()

    threading.Thread(target=close_when_idle, name=f"retire {camera.id}", daemon=True).start()
