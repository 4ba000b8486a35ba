"""What a scheduler tells its log about the config, each note once (again after it changed).

A pyLapse 0.2 user must learn, without reading the docs, that a camera entry was set aside as
invalid (the other cameras run), that a camera pinned to another host is not captured here, and
that cameras fire in their own time zone (0.2 fired every schedule in the machine's zone).
A note is said when it first appears and not again while it stays; a config edit that removes
it and brings it back says it again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pylapse import timeutil

if TYPE_CHECKING:
    from pylapse.config.models import Config

__all__ = ["ConfigNotes", "same_clock"]

log = logging.getLogger("pylapse.capture")


def same_clock(zone: str, other: str) -> bool:
    """Whether two zone names read the same wall clock all year (``UTC`` and ``Etc/UTC``,
    ``Europe/Paris`` and ``Europe/Berlin``): compared in mid-winter, mid-summer and now."""
    if zone == other:
        return True
    a, b = timeutil.zone(zone), timeutil.zone(other)
    now = timeutil.now()
    samples = [now, now.replace(month=1, day=15), now.replace(month=7, day=15)]
    return all(t.astimezone(a).utcoffset() == t.astimezone(b).utcoffset() for t in samples)


def _notes(config: Config, host: str | None) -> dict[str, int]:
    """Each note ``config`` calls for, with its log level. ``host``: this scheduler's host
    when it takes leases (None: it captures every camera, pinned or not)."""
    machine = timeutil.local_zone_name()
    notes: dict[str, int] = {}
    for camera_id, entry in config.invalid_cameras.items():
        notes[
            f"camera {camera_id} is NOT captured: its entry in the config is invalid "
            f"({entry.message}); the other cameras run, fix it and it is picked up"
        ] = logging.ERROR
    for camera_id, cfg in config.cameras.items():
        if host is not None and cfg.enabled and cfg.capture_host not in (None, host):
            notes[
                f"camera {camera_id} is pinned to host {cfg.capture_host} (capture_host): "
                f"not captured here, on host {host}"
            ] = logging.INFO
        zone = cfg.timezone
        if cfg.enabled and cfg.schedules and zone and not same_clock(zone, machine):
            notes[
                f"camera {camera_id} fires at its own time zone {zone} "
                f"(pyLapse 0.2 used this machine's zone {machine})"
            ] = logging.INFO
    return notes


class ConfigNotes:
    """The notes one scheduler has said; :meth:`report` says the new ones."""

    def __init__(self) -> None:
        self._said: set[str] = set()

    def report(self, config: Config, host: str | None) -> None:
        notes = _notes(config, host)
        for text, level in notes.items():
            if text not in self._said:
                log.log(level, "%s", text)
        self._said = set(notes)
