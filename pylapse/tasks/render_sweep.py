"""After a crash, the temp files of the renders it interrupted (kill -9, power cut): their
folders come from the job history (a render job's ``output`` parameter) and each is swept by
:func:`pylapse.video.temps.sweep_render_temps`, which leaves alone the files of renders still
running elsewhere. The runtime runs this once, when it starts the job runner.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pylapse.jobs.runner import JobRunner

__all__ = ["INTERRUPTED_LOOKBACK", "sweep_interrupted_renders"]

log = logging.getLogger(__name__)

INTERRUPTED_LOOKBACK = 200  # recent jobs whose leftovers a start sweeps


def sweep_interrupted_renders(jobs: JobRunner) -> None:
    """Sweep the output folders of the recent render jobs the history marks interrupted."""
    from pylapse.jobs.record import JobState

    try:
        recent = jobs.list(limit=INTERRUPTED_LOOKBACK)
    except Exception:  # the history is unreadable: jobs.start() said why already
        log.debug("job history unreadable; no temp-file sweep", exc_info=True)
        return
    folders = {
        Path(str(job.params["output"])).parent
        for job in recent
        if job.state is JobState.INTERRUPTED and job.params.get("output")
    }
    if not folders:
        return
    from pylapse.video.temps import sweep_render_temps

    for folder in sorted(folders):
        sweep_render_temps(folder)
