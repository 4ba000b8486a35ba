"""pylapse.jobs.history: finished jobs written from outside a runner show in its history."""

from __future__ import annotations

from datetime import UTC, datetime

from pylapse.jobs.history import FinishedJob, add_finished, find_by_param
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner


def test_finished_jobs_written_outside_show_in_the_runners_history(tmp_path):
    db = tmp_path / "jobs.db"
    assert find_by_param(db, "source", "elsewhere") == []  # no history yet: nothing, no file
    assert not db.exists()
    ids = add_finished(db, [
        FinishedJob("export", "Old export", 1_700_000_000.0, ("select", "process"),
                    params={"source": "elsewhere", "n": 1}, result={"written": 5}, total=5),
        FinishedJob("render", "Old video", 1_700_000_100.0, ("select", "encode"),
                    params={"source": "other"}),
    ])  # fmt: skip
    assert len(ids) == 2 and ids[0] < ids[1]
    runner = JobRunner(db)
    runner.start()
    try:
        first = runner.get(ids[0])
        assert first.state is JobState.DONE and first.title == "Old export"
        assert first.result == {"written": 5} and first.params["n"] == 1
        assert first.done == first.total == 5
        assert first.created == datetime.fromtimestamp(1_700_000_000, UTC)
        assert [j.id for j in runner.list(kind="render")] == [ids[1]]
    finally:
        runner.shutdown()
    assert find_by_param(db, "source", "elsewhere") == [
        ("export", {"source": "elsewhere", "n": 1})
    ]
