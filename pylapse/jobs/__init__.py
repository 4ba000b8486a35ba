"""Jobs: the background job runner and the job records it keeps.

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.jobs.record import (
        JobNotFound,
        JobQueueFull,
        JobRecord,
        JobState,
        JobSteps,
        StepsSpec,
    )
    from pylapse.jobs.runner import JobFn, JobRunner

_WHERE = {
    "JobFn": "runner",
    "JobNotFound": "record",
    "JobQueueFull": "record",
    "JobRecord": "record",
    "JobRunner": "runner",
    "JobState": "record",
    "JobSteps": "record",
    "StepsSpec": "record",
}

__all__ = [
    "JobFn",
    "JobNotFound",
    "JobQueueFull",
    "JobRecord",
    "JobRunner",
    "JobState",
    "JobSteps",
    "StepsSpec",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
