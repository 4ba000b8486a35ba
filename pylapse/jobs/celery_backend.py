"""The result backend pyLapse's Celery app uses: Redis, read by polling only.

Celery's Redis backend subscribes the sending process to a channel per task, so that
``AsyncResult.get()`` can wait for a message instead of polling. A job here never waits that
way: :func:`pylapse.jobs.fanout.run_tasks` reads all its tasks' states in one ``MGET`` a poll.
Left subscribed, the sender would receive every state change of every task (each progress
report included) into a socket nobody reads, until Redis drops the connection for its output
buffer. This backend stores and reads exactly as Celery's does, without that subscription.

Imported by Celery (by name, from the backend URL :func:`~pylapse.jobs.celery_app.make_app`
builds), never by pyLapse itself: Celery is an optional extra.
"""

from __future__ import annotations

from typing import Any

from celery.backends.redis import RedisBackend

__all__ = ["PollingRedisBackend"]


class PollingRedisBackend(RedisBackend):  # type: ignore[misc]
    """Celery's Redis result backend without the per-task subscription of senders."""

    def on_task_call(self, producer: Any, task_id: str) -> None:
        """Subscribe to nothing: the job polls its tasks' states (see the module)."""
