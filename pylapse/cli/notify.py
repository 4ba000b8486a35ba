"""``pylapse notify``: try the config's notification rules from the command line.

``pylapse notify test ID`` sends rule ID a test message now (once, no retries) and says how it
went: exit 0 when the target took it, 1 when not. ``pylapse notify log`` prints the newest rows
of the delivery log. Targets are shown masked, as on the settings page.
"""

from __future__ import annotations

import argparse

from pylapse.cli import CommandError, add_config_option, load_config_or_fail

__all__ = ["register", "run_log", "run_test"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "notify",
        help="send a notification rule a test message, or show the delivery log",
        description=__doc__.split("\n\n")[0],
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    test = actions.add_parser("test", help="send rule ID a test message now")
    test.add_argument("rule", metavar="ID", help="the rule's id under notifications")
    add_config_option(test)
    test.set_defaults(func=run_test)
    log = actions.add_parser("log", help="the newest deliveries, newest first")
    log.add_argument("--limit", type=int, default=20, help="how many rows (default 20)")
    add_config_option(log)
    log.set_defaults(func=run_log)


def run_test(args: argparse.Namespace) -> int:
    from pylapse.notify.deliverylog import DeliveryLog, DeliveryStatus
    from pylapse.notify.notifier import Notifier
    from pylapse.runtime import notification_rules

    config = load_config_or_fail(args.config)
    if args.rule not in config.notifications:
        known = ", ".join(sorted(config.notifications)) or "none"
        raise CommandError(f"no notification rule {args.rule!r}; the config has: {known}")
    config.data_path.mkdir(parents=True, exist_ok=True)
    log = DeliveryLog(config.data_path)
    try:
        notifier = Notifier(notification_rules(config), log)
        row = notifier.send_test(args.rule)
    finally:
        log.close()
    assert row is not None  # there is a log
    print(f"{row.rule} -> {row.target}: {row.status.value} ({row.detail})")
    return 0 if row.status is DeliveryStatus.DELIVERED else 1


def run_log(args: argparse.Namespace) -> int:
    from pylapse.notify.deliverylog import DeliveryLog

    config = load_config_or_fail(args.config)
    config.data_path.mkdir(parents=True, exist_ok=True)
    log = DeliveryLog(config.data_path)
    try:
        rows = log.recent(max(1, args.limit))
    finally:
        log.close()
    if not rows:
        print("nothing sent yet")
    for row in rows:
        test = " (test)" if row.test else ""
        what = f"{row.updated:%Y-%m-%d %H:%M:%S}Z {row.rule}{test} {row.event} {row.subject!r}"
        how = f"{row.status.value} after {row.attempts} tries ({row.detail})"
        print(f"{what}: {how} -> {row.target}")
    return 0
