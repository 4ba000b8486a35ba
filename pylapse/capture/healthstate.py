"""What a camera's health says: its states, the rules that decide them, and the records a
:class:`~pylapse.capture.health.HealthStore` hands out (a camera's health, a change of state,
a capture log entry).

States, decided after every attempt:

* ``ok`` - the last capture worked and the picture looks alive;
* ``failing`` - the last attempt failed (fewer than ``offline_after`` in a row);
* ``offline`` - ``offline_after`` or more failures in a row;
* ``frozen`` - ``frozen_after`` identical frames in a row (a camera serving a cached picture);
* ``blank`` - a near-constant picture (lens cap, dead sensor, all-black stream);
* ``dark`` - a picture far darker than the camera's at the same time yesterday (a covered
  lens, a dead infrared light);
* ``unknown`` - never captured; ``disabled`` - switched off in the config;
* ``host silent`` - never stored: what a dashboard shows for a camera whose capture host has
  stopped renewing its lease (:func:`as_seen`), since its last recorded state is stale.

Frozen and blank are decided by :mod:`pylapse.selection.dead_camera`, the rule selections use
to leave a dead camera's frames out: the dashboard and an export never disagree on them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pylapse.selection.dead_camera import far_darker, is_blank

__all__ = [
    "CameraHealth",
    "HealthChange",
    "HealthListener",
    "HealthState",
    "LogEntry",
    "LogKind",
    "as_seen",
    "back_reason",
    "judge_failure",
    "judge_saved",
]


class LogKind(StrEnum):
    CAPTURE = "capture"  # an attempt: saved (ok) or failed
    PAUSE = "pause"  # capture stopped (by the user, or no room on a disk); the message says why
    RESUME = "resume"
    NOTE = "note"  # something about the log itself (updates lost while the disk was full)


class HealthState(StrEnum):
    OK = "ok"
    FAILING = "failing"
    OFFLINE = "offline"
    FROZEN = "frozen"
    BLANK = "blank"
    DARK = "dark"
    UNKNOWN = "unknown"
    DISABLED = "disabled"
    HOST_SILENT = "host silent"  # shown, never stored: see as_seen()


@dataclass(frozen=True)
class CameraHealth:
    camera_id: str
    state: HealthState
    last_success: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    last_frame_id: int | None = None
    paused_reason: str | None = None
    last_error_time: datetime | None = None
    last_path: str | None = None
    identical_frames: int = 0
    reason: str | None = None  # why the state is not ok (frozen, blank, failing, offline)
    recorded: HealthState | None = None  # with HOST_SILENT: the last state its host recorded
    host: str | None = None  # shown: the capture host holding (or last holding) its lease


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A camera's health state changed (see :mod:`pylapse.capture.health`: the event
    notifications deliver)."""

    camera_id: str
    old: HealthState
    new: HealthState
    time: datetime  # aware, UTC: the attempt that changed it
    reason: str  # why, in words: "5 identical frames in a row", the capture error, ...


#: Called with each :class:`HealthChange`, from the capturing thread.
HealthListener = Callable[[HealthChange], None]


@dataclass(frozen=True)
class LogEntry:
    id: int
    camera_id: str
    time: datetime  # the frame's scheduled time, in the offset that applied at the camera
    ok: bool
    message: str
    path: str | None
    frame_id: int | None
    size: int | None
    duration: float | None  # seconds the attempt took
    attempt: int  # 0 = the scheduled attempt, 1.. = retries
    kind: LogKind = LogKind.CAPTURE


def as_seen(health: CameraHealth, host: str | None, host_live: bool) -> CameraHealth:
    """``health`` as a dashboard shows it, given the host that last held the camera's lease
    (None: no lease) and whether that lease is in force: a camera whose host stopped renewing
    it is :attr:`HealthState.HOST_SILENT`, whatever that host last recorded (a dead host's
    cameras would read ``ok`` for ever). A disabled camera stays disabled."""
    if host is None or host_live or health.state is HealthState.DISABLED:
        return dataclasses.replace(health, host=host)
    return dataclasses.replace(
        health,
        host=host,
        state=HealthState.HOST_SILENT,
        reason=f"host {host} has not renewed its lease (last recorded: {health.state})",
        recorded=health.state,
    )


# --- the rules ---------------------------------------------------------------------------------


def judge_saved(
    *,
    identical: int,
    same: int,
    stddev: float,
    luma: float | None,
    luma_yesterday: float | None,
    blank_stddev: float,
    frozen_after: int,
) -> tuple[HealthState, str]:
    """The state after a saved frame and why it is not ok ("" when it is): ``identical``
    frames in a row had the same bytes, ``same`` showed the same picture (re-encoded)."""
    # blank, then frozen, then dark: the order the index's verdicts take
    # (pylapse.selection.dead_camera: blank and frozen say more than dark)
    if is_blank(stddev, blank_stddev):
        return HealthState.BLANK, _blank_reason(stddev, luma)
    if max(identical, same) >= frozen_after:
        if identical >= frozen_after:
            return HealthState.FROZEN, f"{identical} identical frames in a row"
        return HealthState.FROZEN, f"the same picture {same} times in a row (re-encoded)"
    if far_darker(luma, luma_yesterday):
        return HealthState.DARK, (
            f"far darker than the same time yesterday (luma {luma:.0f}, was {luma_yesterday:.0f})"
        )
    return HealthState.OK, ""


def judge_failure(failures: int, error: str, offline_after: int) -> tuple[HealthState, str]:
    """The state after ``failures`` failed attempts in a row, the last with ``error``, and why."""
    state = HealthState.OFFLINE if failures >= offline_after else HealthState.FAILING
    reason = f"{failures} failed attempts in a row: {error}" if failures > 1 else error
    return state, reason


def _blank_reason(stddev: float, luma: float | None) -> str:
    kind = "near-constant"
    if luma is not None and luma < 16:
        kind = "black"
    elif luma is not None and luma > 240:
        kind = "white"
    return f"picture is {kind} (stddev {stddev:.1f})"


def back_reason(old: HealthState) -> str:
    """Why a camera is ok again, by the state it left."""
    if old in (HealthState.FROZEN, HealthState.BLANK, HealthState.DARK):
        return "the picture is alive again"
    if old in (HealthState.FAILING, HealthState.OFFLINE):
        return "capturing again"
    return "first frame saved"
