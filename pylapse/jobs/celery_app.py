"""The Celery application behind ``jobs.backend = "celery"`` (issue 21 §3).

One function builds it, from the broker and result backend URLs: nothing is made at import time.
The process that queues jobs sends tasks by name (:func:`client_app`, one app per broker per
process so its connections are reused); ``pylapse worker`` builds its own app and registers the
task bodies on it (:mod:`pylapse.worker.app`).

Every task is acknowledged late and rejected when its worker is lost (:data:`TASK_OPTIONS`): a
worker killed mid-task leaves its message unacknowledged, and the broker gives it to another
worker (RabbitMQ at once, when the dead worker's connection closes; Redis once the
``visibility_timeout`` has passed). The tasks are written to be redone safely.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["TASK_OPTIONS", "client_app", "make_app"]

#: options every pyLapse task is registered with: redone, never lost, when a worker dies
TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}


def make_app(broker_url: str, result_backend: str, *, visibility_timeout: float = 3600.0) -> Any:
    """A Celery app on ``broker_url`` keeping task states in ``result_backend`` (Redis)."""
    from celery import Celery  # optional extra: imported only when Celery is configured

    # Celery's Redis backend, but polled: see pylapse.jobs.celery_backend
    backend = f"pylapse.jobs.celery_backend:PollingRedisBackend+{result_backend}"
    app = Celery("pylapse", broker=broker_url, backend=backend, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # one message at a time per worker process: a long chunk never holds back others
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=7 * 24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            # look for a dead worker's tasks every tenth of the timeout (at most a minute), not
            # every 100 s: a short timeout then really is short (one cheap Redis read a sweep)
            "unacked_restore_interval": max(1.0, min(60.0, visibility_timeout / 10)),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
        # a revoked task stays revoked for workers started later (they ask the others)
        worker_enable_remote_control=True,
    )
    return app


@functools.lru_cache(maxsize=4)
def client_app(broker_url: str, result_backend: str, visibility_timeout: float = 3600.0) -> Any:
    """The app a process sends its tasks through: one per broker, kept for its connections."""
    return make_app(broker_url, result_backend, visibility_timeout=visibility_timeout)
