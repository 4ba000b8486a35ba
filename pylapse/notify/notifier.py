"""The notifier: events in, messages out, on a background thread so nobody waits for them.

:meth:`Notifier.notify` is called from capture, jobs and health changes; it only matches the
event against the rules, applies each rule's cooldown and puts what passes on a queue; it never
blocks and never raises. One delivery thread sends, and a failed send that may succeed later
(a timeout, a 5xx) is put back with exponential backoff (:class:`Backoff`), due at its time, so
a target that is down delays only its own messages. Every message is a row of the delivery log
(:mod:`pylapse.notify.deliverylog`). Shutdown is prompt: waiting is done on a condition, and
messages still queued are logged as not delivered.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pylapse.notify import apprise_target, webhook
from pylapse.notify.attempt import Attempt
from pylapse.notify.cooldown import Cooldown
from pylapse.notify.deliverylog import STOPPED, Delivery, DeliveryLog, DeliveryStatus
from pylapse.notify.events import Event, EventKind
from pylapse.notify.rules import Rule, TargetKind

__all__ = ["Backoff", "Notifier"]

log = logging.getLogger(__name__)

_FAILURE_WORDS = ("failed", "offline", "frozen", "blank", "dark", "paused", "low")


@dataclass(frozen=True)
class Backoff:
    """How often and how soon a failed send is tried again: try ``attempts`` times in all, the
    first retry after ``first`` seconds, each next one ``factor`` times later, at most ``cap``.
    The defaults retry after 2 s, 8 s, 32 s, about 2 min and 8.5 min: six tries in 11 minutes."""

    attempts: int = 6
    first: float = 2.0
    factor: float = 4.0
    cap: float = 900.0

    def delay(self, tried: int) -> float:
        """Seconds to wait after the ``tried``-th failed try (1-based)."""
        return float(min(self.cap, self.first * self.factor ** max(0, tried - 1)))


@dataclass
class _Send:
    rule: Rule
    event: Event
    held: int = 0
    tried: int = 0
    test: bool = False
    row: int | None = None  # its delivery log row, written by the delivery thread


@dataclass
class _Flush:
    rule_id: str
    subject: str


@dataclass(order=True)
class _Due:
    due: float
    seq: int
    task: _Send | _Flush = field(compare=False)


class Notifier:
    """Delivers events to the rules that want them. ``start`` before ``notify``."""

    def __init__(
        self,
        rules: Iterable[Rule],
        log_store: DeliveryLog | None = None,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 10.0,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.log = log_store
        self._clock = clock
        self._cooldown: Cooldown[Event] = Cooldown(clock)
        self._rules: dict[str, Rule] = {}
        self._cond = threading.Condition()
        self._heap: list[_Due] = []
        self._seq = itertools.count()
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.set_rules(rules)

    # --- rules ---------------------------------------------------------------------------------

    @property
    def rules(self) -> dict[str, Rule]:
        return dict(self._rules)

    def set_rules(self, rules: Iterable[Rule]) -> None:
        """Use ``rules`` from now on; a changed or removed rule's cooldown starts afresh."""
        new = {rule.id: rule for rule in rules}
        for rule_id, old in self._rules.items():
            if new.get(rule_id) != old:
                self._cooldown.forget(rule_id)
        self._rules = new

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._work, name="pylapse-notify", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0, *, drain: float = 0.0) -> None:
        """End the delivery thread, after up to ``drain`` seconds for the messages already due
        (a send in progress may take up to ``timeout``); messages still waiting (a retry later,
        a cooldown's last message) are logged as not delivered."""
        if drain > 0 and self._thread is not None:
            self.wait_idle(drain)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        with self._cond:
            left, self._heap = self._heap, []
        for item in left:
            if isinstance(item.task, _Send):
                self._log(item.task, DeliveryStatus.FAILED, STOPPED)

    def tick(self) -> None:
        """Look again at what is due (after the clock given to the constructor moved)."""
        with self._cond:
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is being sent or due before a later time; True when idle."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._busy or (self._heap and self._heap[0].due <= self._clock()):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left if left is not None else 0.5)
            return True

    # --- events --------------------------------------------------------------------------------

    def notify(self, event: Event) -> int:
        """Queue ``event`` for every rule that wants it and is not cooling down for its
        subject; returns how many messages were queued. Never raises."""
        queued = 0
        for rule in list(self._rules.values()):
            try:
                if not rule.matches(event):
                    continue
                admission = self._cooldown.admit(rule.id, event.subject, rule.cooldown, event)
                if admission.send:
                    self._push(self._clock(), _Send(rule, event))
                    queued += 1
                elif admission.flush_at is not None:
                    self._push(admission.flush_at, _Flush(rule.id, event.subject))
            except Exception:  # telling people must never break what told us
                log.exception("notification rule %s could not take event %s", rule.id, event.kind)
        return queued

    def send_test(self, rule_id: str) -> Delivery | None:
        """Send a test message to rule ``rule_id`` now, once, on the caller's thread; its row
        of the delivery log (None without a log). KeyError for an unknown rule."""
        rule = self._rules[rule_id]
        # the rule's first event, so a receiver that filters by event still takes the test
        kind = min(rule.events) if rule.events else EventKind.RENDER_DONE
        event = Event.now(
            kind,
            "test",
            f"A test message from pyLapse for notification rule {rule_id!r}",
            {"test": True},
        )
        task = _Send(rule, event, test=True, tried=1)
        self._log(task, DeliveryStatus.PENDING, "")
        attempt = self._attempt(task)
        status = DeliveryStatus.DELIVERED if attempt.ok else DeliveryStatus.FAILED
        self._log(task, status, attempt.detail)
        if self.log is None or task.row is None:
            return None
        return self.log.get(task.row)

    # --- delivery ------------------------------------------------------------------------------

    def _push(self, due: float, task: _Send | _Flush) -> None:
        with self._cond:
            heapq.heappush(self._heap, _Due(due, next(self._seq), task))
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._heap or self._heap[0].due > self._clock()):
                    wait = self._heap[0].due - self._clock() if self._heap else None
                    self._cond.wait(wait)
                if self._stopping:
                    return
                task = heapq.heappop(self._heap).task
                self._busy = True
            try:
                self._run(task)
            except Exception:  # one bad message must not end the delivery thread
                log.exception("notification delivery failed unexpectedly")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _run(self, task: _Send | _Flush) -> None:
        if isinstance(task, _Flush):
            held = self._cooldown.flush(task.rule_id, task.subject)
            rule = self._rules.get(task.rule_id)
            if held is not None and rule is not None:
                self._run(_Send(rule, held.event, held=held.count - 1))
            return
        if task.row is None:
            self._log(task, DeliveryStatus.PENDING, "sending")  # its row, off the caller's thread
        task.tried += 1
        attempt = self._attempt(task)
        if attempt.ok:
            self._log(task, DeliveryStatus.DELIVERED, attempt.detail)
            return
        if attempt.retry and task.tried < self.backoff.attempts:
            delay = self.backoff.delay(task.tried)
            why = f"try {task.tried} failed: {attempt.detail}; next in {delay:g} s"
            self._log(task, DeliveryStatus.PENDING, why)
            self._push(self._clock() + delay, task)
            return
        self._log(task, DeliveryStatus.FAILED, attempt.detail)
        log.warning("notification %s to %s failed after %d tries: %s",
                    task.rule.id, task.rule.masked_url, task.tried, attempt.detail)  # fmt: skip

    def _log(self, task: _Send, status: DeliveryStatus, detail: str) -> None:
        """Write how ``task`` stands to the delivery log, best effort: a log that cannot be
        written (the disk is full: just when ``disk.low`` goes out) never stops a delivery."""
        if self.log is None:
            return
        try:
            if task.row is None:
                rule, event = task.rule, task.event
                task.row = self.log.add(rule.id, event.kind, event.subject, event.time,
                                        rule.masked_url, test=task.test)  # fmt: skip
            self.log.update(task.row, status, task.tried, detail)
        except sqlite3.Error as exc:
            log.warning("the notification delivery log cannot be written: %s", exc)

    def _attempt(self, task: _Send) -> Attempt:
        rule, event = task.rule, task.event
        if rule.kind is TargetKind.WEBHOOK:
            payload: dict[str, Any] = {**event.to_json(), "rule": rule.id, "test": task.test}
            if task.held:
                payload["held_back"] = task.held
            return webhook.post(rule.url, payload, rule.secret, timeout=self.timeout)
        title = f"pyLapse: {event.kind.value} {event.subject}"
        body = event.message
        if task.held:
            body += f"\n({task.held} similar message(s) held back by the cooldown)"
        failure = any(word in event.kind.value for word in _FAILURE_WORDS)
        return apprise_target.send(rule.url, title, body, failure=failure)
