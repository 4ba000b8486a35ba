"""``pylapse worker``: refuses a config that does not run jobs on Celery, and bad options, with
one line saying what to set. (Real workers: tests/pylapse/worker/.)"""

from __future__ import annotations

import json

import pytest

from pylapse.cli import main


def _config(tmp_path, jobs=None):
    path = tmp_path / "capture_config.json"
    data = {"data_dir": str(tmp_path / "data")}
    if jobs is not None:
        data["jobs"] = jobs
    path.write_text(json.dumps(data))
    return path


def test_a_config_with_jobs_in_process_is_refused_saying_what_to_set(tmp_path, capsys):
    assert main(["worker", "--config", str(_config(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pylapse worker: jobs.backend is not 'celery' in the config")
    assert '"broker_url": "redis://127.0.0.1:6379/0"' in err


@pytest.mark.parametrize(
    ("args", "says"),
    [(["--concurrency", "0"], "--concurrency must be at least 1, got 0"),
     (["--queues", " , "], "--queues names no queue")],
)  # fmt: skip
def test_bad_options_are_refused_before_any_worker_starts(tmp_path, capsys, args, says):
    config = _config(tmp_path, {"backend": "celery", "broker_url": "redis://127.0.0.1:1/0"})
    assert main(["worker", "--config", str(config), *args]) == 1
    assert says in capsys.readouterr().err


def test_the_command_is_listed_with_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["worker", "--help"])
    out = capsys.readouterr().out
    for option in ("--concurrency", "--queues", "--pool", "--hostname", "--config"):
        assert option in out
