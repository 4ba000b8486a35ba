"""Retention: thinning and expiring a camera's old frames into a trash folder (issue 20, §4).

One concept a module: :mod:`.protect` (which instants are protected), :mod:`.plan` (what goes,
from index rows and the policy; pure), :mod:`.journal` (the run's journal file), :mod:`.run`
(moves with the journal, recovery after a crash), :mod:`.trash` (emptying after the grace
period), :mod:`.forecast` (days until a disk is full under retention). The use case is
:mod:`pylapse.tasks.retention`.

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.retention.forecast import Growth, days_until_full
    from pylapse.retention.plan import Candidate, DayPlan, Doomed, Policy, Reason, plan_day
    from pylapse.retention.run import RetentionBusy, RunResult, move_to_trash, recover
    from pylapse.retention.trash import empty_trash, trash_runs

_WHERE = {
    "Candidate": "plan",
    "DayPlan": "plan",
    "Doomed": "plan",
    "Growth": "forecast",
    "days_until_full": "forecast",
    "Policy": "plan",
    "Reason": "plan",
    "plan_day": "plan",
    "RetentionBusy": "run",
    "RunResult": "run",
    "move_to_trash": "run",
    "recover": "run",
    "empty_trash": "trash",
    "trash_runs": "trash",
}

__all__ = [
    "Candidate",
    "DayPlan",
    "Doomed",
    "Growth",
    "Policy",
    "Reason",
    "RetentionBusy",
    "RunResult",
    "days_until_full",
    "empty_trash",
    "move_to_trash",
    "plan_day",
    "recover",
    "trash_runs",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
