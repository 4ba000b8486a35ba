"""``pylapse worker``: run a Celery worker for the config's ``jobs`` broker (issue 21 §3).

Exports queued where ``jobs.backend`` is ``"celery"`` are split into chunks that workers write;
start one or more workers (on this machine or others that see the same folders under the same
paths) with the same config. Stop a worker with Ctrl-C (it finishes its task) or any signal: a
task it had taken is given to another worker.
"""

from __future__ import annotations

import argparse

from pylapse.cli import CommandError, add_config_option, load_config_or_fail

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run a Celery worker for exports queued with jobs.backend 'celery'",
        description=__doc__.split("\n\n")[0],
    )
    add_config_option(parser)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="worker processes (default: the cores)"
    )
    parser.add_argument(
        "--queues", help="comma-separated queues to take tasks from (default: jobs.queue)"
    )
    parser.add_argument(
        "--pool", choices=("prefork", "solo"), default="prefork",
        help="prefork: a process per task (cancel stops a running task at once); solo: "
        "tasks one by one in this process",
    )  # fmt: skip
    parser.add_argument("--hostname", help="this worker's name (default: celery@<host>)")
    parser.add_argument("--loglevel", default="INFO", help="log level (default: INFO)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pylapse.export.options import available_cores
    from pylapse.worker.app import run_worker, worker_app

    config = load_config_or_fail(args.config)
    jobs = config.jobs
    if jobs.backend != "celery":
        raise CommandError(
            'jobs.backend is not \'celery\' in the config; set jobs: {"backend": "celery", '
            '"broker_url": "redis://127.0.0.1:6379/0"} to run exports on workers'
        )
    concurrency = available_cores() if args.concurrency is None else args.concurrency
    if concurrency < 1:
        raise CommandError(f"--concurrency must be at least 1, got {concurrency}")
    queues = [q.strip() for q in (args.queues or jobs.queue).split(",") if q.strip()]
    if not queues:
        raise CommandError(f"--queues names no queue: {args.queues!r}")
    try:
        import celery  # noqa: F401
    except ImportError:
        raise CommandError("Celery is not installed: pip install 'pylapse[celery]'") from None
    run_worker(
        worker_app(jobs),
        queues=queues,
        concurrency=concurrency,
        pool=args.pool,
        hostname=args.hostname,
        loglevel=args.loglevel,
    )
    return 0
