"""The ``jobs`` block: in process by default, Celery only with a broker it can use."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pylapse.config.jobs import JobsConfig
from pylapse.config.models import Config


def test_jobs_run_in_process_unless_told_otherwise():
    config = Config.model_validate({})
    assert config.jobs.backend == "inprocess" and config.jobs.broker_url is None


def test_a_redis_broker_keeps_the_results_too():
    jobs = JobsConfig(backend="celery", broker_url="redis://127.0.0.1:6379/3")
    assert jobs.results_url == "redis://127.0.0.1:6379/3"
    given = JobsConfig(
        backend="celery",
        broker_url="amqp://guest:guest@127.0.0.1:5672//",
        result_backend="redis://127.0.0.1:6379/4",
    )
    assert given.results_url == "redis://127.0.0.1:6379/4"


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"backend": "celery"}, "backend 'celery' needs a broker_url"),
        ({"backend": "celery", "broker_url": "http://x"}, "'http://x' is not a Redis or RabbitMQ"),
        (
            {"backend": "celery", "broker_url": "amqp://guest:guest@h:5672//"},
            "with a RabbitMQ broker, give a result_backend",
        ),
        (
            {"backend": "celery", "broker_url": "redis://h", "result_backend": "rpc://"},
            "'rpc://' is not a Redis URL",
        ),
        ({"backend": "threads"}, "backend"),
        ({"chunk_frames": 0}, "chunk_frames"),
    ],
)
def test_a_celery_block_that_cannot_work_is_refused_naming_why(fields, says):
    with pytest.raises(ValidationError, match=says):
        Config.model_validate({"jobs": fields})
