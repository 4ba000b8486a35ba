"""The ``jobs`` block of the config: where exports run (issue 21 §3).

``{"backend": "inprocess"}`` (the default) runs every job on the JobRunner's threads in the
process that queued it. ``{"backend": "celery", "broker_url": "redis://host:6379/0"}`` (or
``"amqp://user:pass@host:5672//"``) hands an export's chunks, a render's day segments, the
frames metrics measure and the days of a range of pictures to Celery workers started with
``pylapse worker``; the job, its progress and its cancel stay in the JobRunner of the process
that queued it.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from pylapse.config.base import _Model

__all__ = ["JobsConfig"]

_BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")
_BACKEND_SCHEMES = ("redis", "rediss")


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


class JobsConfig(_Model):
    backend: Literal["inprocess", "celery"] = Field(
        "inprocess", description="'inprocess' (the JobRunner's threads) or 'celery' (workers)"
    )
    broker_url: str | None = Field(
        None, description="Celery broker: redis://host:6379/0 or amqp://user:pass@host:5672//"
    )
    result_backend: str | None = Field(
        None,
        description="where task progress and results are kept (default: the broker when it is "
        "Redis; required with RabbitMQ, e.g. redis://host:6379/1)",
    )
    queue: str = Field("pylapse", min_length=1, description="Celery queue the tasks are sent to")
    chunk_frames: int = Field(
        500, ge=1, description="most frames in one export task (a day's frames are split)"
    )
    visibility_timeout: float = Field(
        3600,
        gt=0,
        description="Redis broker: seconds before a task taken by a worker that died is "
        "given to another",
    )

    @field_validator("broker_url")
    @classmethod
    def _check_broker(cls, value: str | None) -> str | None:
        if value is not None and _scheme(value) not in _BROKER_SCHEMES:
            raise ValueError(
                f"{value!r} is not a Redis or RabbitMQ URL; use redis://host:6379/0 or "
                "amqp://user:password@host:5672//"
            )
        return value

    @field_validator("result_backend")
    @classmethod
    def _check_backend(cls, value: str | None) -> str | None:
        if value is not None and _scheme(value) not in _BACKEND_SCHEMES:
            raise ValueError(f"{value!r} is not a Redis URL, e.g. redis://host:6379/1")
        return value

    @model_validator(mode="after")
    def _check_celery(self) -> JobsConfig:
        if self.backend != "celery":
            return self
        if self.broker_url is None:
            raise ValueError("backend 'celery' needs a broker_url (redis://... or amqp://...)")
        if self.result_backend is None and not _scheme(self.broker_url).startswith("redis"):
            raise ValueError(
                "with a RabbitMQ broker, give a result_backend (e.g. redis://host:6379/1): "
                "the job reads its tasks' progress from it"
            )
        return self

    @property
    def results_url(self) -> str | None:
        """The result backend in use: the given one, else the (Redis) broker."""
        return self.result_backend or self.broker_url
