"""LeaseKeeper: a scheduler's side of the camera leases (:mod:`pylapse.capture.leases`).

Every ``heartbeat`` seconds (a third of a lease) it renews the leases it holds, tries to take
the cameras it wants and does not hold (free ones, and those whose holder stopped renewing),
releases those it no longer wants (removed, disabled or pinned to another host by a config
edit), and records the host's heartbeat. When the set it holds changes it tells the scheduler,
which adds or removes those cameras' jobs.

A capture asks :meth:`LeaseKeeper.may_write` right before it writes a frame. A lease that has
run low (the heartbeat thread was held up, the process was stopped, the machine slept) is
renewed there first; if another host took the camera meanwhile, the frame is not written and
the camera is dropped at once.

With ``duty=True`` the keeper also competes for the site-wide duty (:data:`SITE_DUTY`) in the
same heartbeat transaction; :attr:`LeaseKeeper.has_duty` says whether this scheduler holds it
now, so site-wide timers (the render schedules) run on one host only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection

from pylapse.capture.leases import SITE_DUTY, Lease, LeaseHolder, LeaseStore

__all__ = ["LeaseKeeper"]

log = logging.getLogger("pylapse.capture")


class LeaseKeeper:
    """Holds the leases of the cameras ``wanted()`` names, for ``holder``."""

    def __init__(
        self,
        store: LeaseStore,
        holder: LeaseHolder,
        *,
        seconds: float,
        wanted: Callable[[], Collection[str]],
        on_change: Callable[[frozenset[str]], None],
        duty: bool = False,
    ) -> None:
        self.store = store
        self.duty = duty
        self.holder = holder
        self.seconds = seconds
        self._wanted = wanted
        self._on_change = on_change
        self._held: frozenset[str] = frozenset()
        self._told: frozenset[str] = frozenset()  # the set on_change was last told
        self._expires: dict[str, float] = {}  # our own lease's end, per camera held
        self._duty_until = 0.0  # our duty lease's end (0: not ours)
        self._said: dict[str, str] = {}  # camera -> holder id last logged as in the way
        self._state = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> frozenset[str]:
        """The cameras this scheduler holds the lease of now."""
        return self._held

    @property
    def has_duty(self) -> bool:
        """Whether this scheduler holds the site-wide duty now (its lease not run out: a
        holder whose heartbeat stalled stops counting itself as the holder by itself)."""
        return self._duty_until > time.time()

    @property
    def heartbeat(self) -> float:
        return self.seconds / 3

    def start(self) -> frozenset[str]:
        """Take what can be taken now (without telling ``on_change``), then keep at it."""
        self._stop.clear()
        self.reconcile(notify=False)
        self._thread = threading.Thread(target=self._run, name="pylapse-leases", daemon=True)
        self._thread.start()
        return self._held

    def stop(self) -> None:
        """Stop renewing, release every lease and remove this host's row."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._state:
            self._held = frozenset()
            self._expires.clear()
            self._duty_until = 0.0
        try:
            self.store.leave(self.holder)
        except Exception:  # the leases then expire by themselves
            log.warning("could not release the camera leases at shutdown", exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.heartbeat)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.reconcile()
            except Exception:  # the database away for a moment: the leases run low, and
                # may_write refuses to write once they are gone
                log.exception("renewing camera leases failed (will retry)")

    def reconcile(self, *, notify: bool = True) -> frozenset[str]:
        """Release, renew and take leases once; returns the cameras held afterwards."""
        with self._state:
            wanted = set(self._wanted())
            before = self._held
            gone = before - wanted
            if gone:
                self.store.release(self.holder, gone)
            now = time.time()
            keys = wanted | {SITE_DUTY} if self.duty else wanted
            found = self.store.take(self.holder, keys, self.seconds, now, beat=True)
            duty = found.pop(SITE_DUTY, None)
            if duty is not None:
                self._tell_duty(duty, now)
            held = frozenset(c for c, lease in found.items() if lease.holder == self.holder.id)
            for camera_id, lease in sorted(found.items()):
                self._tell(camera_id, lease, camera_id in before)
            self._expires = {c: now + self.seconds for c in held}
            self._held = held
            tell = notify and held != self._told
            self._told = held
        if tell:  # outside the lock: the scheduler reads ``held`` back (from any thread)
            self._on_change(held)
        return held

    def _tell_duty(self, lease: Lease, now: float) -> None:
        ours = lease.holder == self.holder.id
        if ours and not self.has_duty:
            log.info("site duty (scheduled renders) taken by host %s (pid %d)",
                     self.holder.host, self.holder.pid)  # fmt: skip
        elif not ours and self._said.get(SITE_DUTY) != lease.holder:
            log.info("site duty (scheduled renders) is held by %s", lease.describe())
        self._said[SITE_DUTY] = lease.holder
        self._duty_until = now + self.seconds if ours else 0.0

    def _tell(self, camera_id: str, lease: Lease, had: bool) -> None:
        """Log a change of who captures ``camera_id``, once each."""
        ours = lease.holder == self.holder.id
        if ours and not had:
            log.info("camera %s: lease taken by host %s (pid %d)",
                     camera_id, self.holder.host, self.holder.pid)  # fmt: skip
            self._said.pop(camera_id, None)
        elif not ours and had:
            log.warning("camera %s: lease lost to %s; stopping its capture here",
                        camera_id, lease.describe())  # fmt: skip
        if not ours and self._said.get(camera_id) != lease.holder:
            log.info("camera %s is captured by %s, waiting", camera_id, lease.describe())
            self._said[camera_id] = lease.holder

    def may_write(self, camera_id: str) -> str | None:
        """None when this scheduler may write a frame of ``camera_id`` now, else why not.

        A camera not held here (a "grab now" of a camera without schedules, or pinned to
        another host) may be written while no other host holds it.
        """
        now = time.time()
        with self._state:
            if camera_id not in self._held:
                other = self.store.live(now).get(camera_id)
                if other is None or other.holder == self.holder.id:
                    return None
                return f"{camera_id}: captured by {other.describe()}, not here"
            # a third of a lease left is the normal low point between two heartbeats
            if self._expires.get(camera_id, 0.0) - now > self.heartbeat:
                return None
            try:
                lease = self.store.take(self.holder, [camera_id], self.seconds, now)[camera_id]
            except Exception as exc:
                log.warning("camera %s: its lease could not be renewed: %s", camera_id, exc)
                return f"{camera_id}: its lease could not be renewed ({exc})"
            if lease.holder == self.holder.id:
                self._expires[camera_id] = now + self.seconds
                return None
            self._tell(camera_id, lease, True)
            self._held = self._held - {camera_id}
            self._expires.pop(camera_id, None)
        self._wake.set()  # the heartbeat thread tells the scheduler (never a capture thread)
        return f"{camera_id}: lease lost to {lease.describe()}"
