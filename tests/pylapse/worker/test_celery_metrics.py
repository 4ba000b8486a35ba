"""Metrics measured on a real ``pylapse worker`` (Celery, Redis on 127.0.0.1): the frames go out
a local day per task, the hash distances and the writes stay in the process that runs the job,
and the index ends up exactly as when everything is measured in process."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pylapse import timeutil
from pylapse.config.models import Config
from pylapse.index.store import FrameIndex
from pylapse.jobs.celery_app import make_app
from pylapse.progress import Progress
from pylapse.tasks.metrics import backend_options, fill_metrics, measure_on_workers
from tests.pylapse.worker.test_celery_export import Worker, _config, redis_url, workers

__all__ = ["redis_url", "workers"]  # the fixtures, shared with the export tests

pytestmark = [pytest.mark.slow, pytest.mark.network]

TOKYO = timeutil.zone("Asia/Tokyo")
START = datetime(2026, 4, 1, 21, 0, tzinfo=TOKYO)


def _archive(folder: Path, db: Path) -> FrameIndex:
    """14 frames every 30 minutes from 21:00 (two local days), one unreadable, two alike."""
    folder.mkdir(exist_ok=True)
    index = FrameIndex(db)
    for k in range(14):
        path = folder / f"f{k:02d}.jpg"
        if not path.exists():
            if k == 6:
                path.write_bytes(b"\xff\xd8 not really a picture")
            else:
                Image.effect_noise((320, 240), 20 + 3 * (k if k != 9 else 8)).convert("RGB").save(
                    path, quality=90
                )
        index.add_frame("arch", path, START + timedelta(minutes=30 * k), size=None, mtime=None)
    return index


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


def test_metrics_measured_on_workers_fill_the_index_as_in_process(tmp_path, redis_url, workers):
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, {"backend": "celery", "broker_url": redis_url, "queue": queue})
    workers.append(Worker(config, queue, tmp_path / "w.log", pool="prefork", concurrency=2))
    plain = _archive(tmp_path / "frames", tmp_path / "plain.db")
    on_workers = _archive(tmp_path / "frames", tmp_path / "workers.db")
    try:
        expected = fill_metrics(plain, "arch", batch=5)
        reports: list[Progress] = []
        measure = measure_on_workers(make_app(redis_url, redis_url), queue, chunk_frames=4)
        result = fill_metrics(on_workers, "arch", reports.append, batch=10, measure=measure)
    finally:
        plain.close()
        on_workers.close()
    assert (result.scored, result.failed) == (expected.scored, expected.failed) == (13, 1)
    assert _rows(tmp_path / "workers.db") == _rows(tmp_path / "plain.db")
    assert reports[-1].done == reports[-1].total == 14
    assert any(r.message == "measured on workers" and r.done > 0 for r in reports)
    # batch 1: frames 0-9 are 21:00 ... 01:30 (6 on the 1st, 4 on the 2nd): tasks of 4, 2, 4;
    # batch 2: frames 10-13, one task of 4
    assert workers[0].text().count("succeeded") == 4

    # frames an older method scored: rescored on the workers alike, every score and metric
    for name in ("plain.db", "workers.db"):
        with sqlite3.connect(tmp_path / name) as conn:
            conn.execute("UPDATE frames SET score_version = NULL, sharpness = 1, sky_r_std = 1")
        conn.close()
    with FrameIndex(tmp_path / "plain.db") as plain:
        fill_metrics(plain, "arch", batch=5, rescore_old=True)
    with FrameIndex(tmp_path / "workers.db") as on_workers:
        again = fill_metrics(on_workers, "arch", batch=10, measure=measure, rescore_old=True)
        assert on_workers.count_old_scores("arch", 1) == 0
    assert (again.scored, again.failed) == (13, 1)  # the unreadable one tried again, as every run
    assert _rows(tmp_path / "workers.db") == _rows(tmp_path / "plain.db")
    assert all(row[0] != 1 for row in sqlite3.connect(tmp_path / "plain.db").execute(
        "SELECT sharpness FROM frames WHERE dhash IS NOT NULL"))  # fmt: skip


def test_the_config_picks_where_metrics_are_measured(redis_url):
    assert backend_options(Config.model_validate({})) == {}
    celery = Config.model_validate({"jobs": {"backend": "celery", "broker_url": redis_url}})
    options = backend_options(celery)
    assert callable(options["measure"]) and options["batch"] == 8 * 500
