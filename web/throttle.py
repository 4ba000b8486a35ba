"""Login throttling: wrong passwords cost a guesser time, never the owner the dashboard for good.

Each client (its address, see :func:`web.security.client_address`; an IPv6 client by its /64,
which one machine usually owns whole) may type :data:`LIMIT` wrong passwords in a row without
waiting. From then on every further try waits for a lockout that doubles with each failure
(30 s, 1 min, 2 min, ... at most 15 min), so one address gets about a hundred guesses a day while
the owner who mistyped ten times is back after half a minute. Only the login form is throttled,
nothing else; tries refused during a lockout do not extend it; the right password clears the
client's record; a client quiet for :data:`FORGET_AFTER` starts afresh.

The check and the count are one step under a lock (:meth:`LoginThrottle.begin`): a try is counted
as a failure *before* the slow password hash is verified and :meth:`LoginThrottle.succeeded`
takes it back. So 40 guesses sent at once get :data:`LIMIT` verifications and 30 refusals, not 40
verifications (the check used to come before the count, and every parallel guess passed it).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LIMIT", "LOCKOUT", "MAX_LOCKOUT", "LoginThrottle", "Verdict"]

LIMIT = 10  # wrong passwords in a row before the first lockout
LOCKOUT = 30.0  # seconds of the first lockout; doubles with every further failure
MAX_LOCKOUT = 900.0
FORGET_AFTER = 3600.0  # a client quiet this long (and not locked out) starts afresh
MAX_CLIENTS = 10_000  # records kept at most (the quietest go first)


@dataclass
class _Record:
    failures: int = 0  # tries since the last success, the ones being verified included
    locked_until: float = 0.0
    last: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """Whether a login try may go ahead; when not, how many seconds until one may."""

    allowed: bool
    retry_after: float = 0.0

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


def client_key(client: str) -> str:
    """What is counted: the address, or for IPv6 its /64 (a host gets a whole /64 to pick from)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class LoginThrottle:
    """Failure counts per client, safe to use from many threads at once.

    ``clock`` is read for every decision (tests replace it to step over a lockout)."""

    def __init__(
        self,
        *,
        limit: int = LIMIT,
        lockout: float = LOCKOUT,
        max_lockout: float = MAX_LOCKOUT,
        forget_after: float = FORGET_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self.lockout = lockout
        self.max_lockout = max_lockout
        self.forget_after = forget_after
        self.clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    def lockout_after(self, failures: int) -> float:
        """Seconds locked out after ``failures`` wrong passwords in a row (0 below the limit)."""
        if failures < self.limit:
            return 0.0
        return min(self.max_lockout, self.lockout * 2 ** (failures - self.limit))

    def begin(self, client: str) -> Verdict:
        """Count a try by ``client`` as a failure now, or refuse it while it is locked out."""
        key = client_key(client)
        with self._lock:
            now = self.clock()
            record = self._records.get(key)
            if record is not None and self._quiet(record, now):
                record = None
            if record is None:
                self._make_room(now)
                record = self._records[key] = _Record()
            if now < record.locked_until:
                return Verdict(False, record.locked_until - now)
            record.failures += 1
            record.last = now
            wait = self.lockout_after(record.failures)
            if wait:
                # set before the hash is verified: tries arriving meanwhile are refused
                record.locked_until = now + wait
            return Verdict(True)

    def succeeded(self, client: str) -> None:
        """The try was the right password: forget the client's failures and lockout."""
        with self._lock:
            self._records.pop(client_key(client), None)

    def _quiet(self, record: _Record, now: float) -> bool:
        return now >= record.locked_until and now - record.last >= self.forget_after

    def _make_room(self, now: float) -> None:
        if len(self._records) < MAX_CLIENTS:
            return
        self._records = {k: r for k, r in self._records.items() if not self._quiet(r, now)}
        if len(self._records) >= MAX_CLIENTS:  # all busy: drop the least recently seen half
            keep = sorted(self._records.items(), key=lambda kv: kv[1].last)[MAX_CLIENTS // 2 :]
            self._records = dict(keep)
