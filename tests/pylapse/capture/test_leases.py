"""Camera leases: taking, renewing, expiry and takeover, pinned cameras, a lease lost mid-capture.

Every test runs on SQLite and on PostgreSQL (the ``index_location`` fixture): the leases live
in the index database, which several hosts share on PostgreSQL.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time

import pytest

from pylapse.capture.leasekeeper import LeaseKeeper
from pylapse.capture.leases import SITE_DUTY, LeaseHolder, LeaseStore
from pylapse.capture.scheduler import CaptureScheduler
from pylapse.config.file import parse_config


@pytest.fixture
def store(index_location):
    made = LeaseStore(index_location)
    yield made
    made.close()


A = LeaseHolder("host-a", 101, "aaaa")
B = LeaseHolder("host-b", 202, "bbbb")


def _holders(found):
    return {camera: lease.host for camera, lease in found.items()}


def test_the_first_taker_holds_and_the_second_sees_who(store):
    assert _holders(store.take(A, ["porch", "roof"], 30, now=1000)) == {
        "porch": "host-a", "roof": "host-a",
    }  # fmt: skip
    found = store.take(B, ["porch", "yard"], 30, now=1001)
    assert _holders(found) == {"porch": "host-a", "yard": "host-b"}
    assert found["porch"].describe() == "host host-a (pid 101)"
    assert [(x.camera_id, x.host) for x in store.leases()] == [
        ("porch", "host-a"), ("roof", "host-a"), ("yard", "host-b"),
    ]  # fmt: skip


def test_a_renewal_extends_the_lease_and_keeps_its_start(store):
    store.take(A, ["porch"], 30, now=1000)
    lease = store.take(A, ["porch"], 30, now=1020)["porch"]
    assert (lease.acquired_at, lease.heartbeat_at, lease.expires_at) == (1000, 1020, 1050)
    assert store.take(B, ["porch"], 30, now=1040)["porch"].host == "host-a"  # renewed: not yet


def test_an_expired_lease_is_taken_over_and_its_old_holder_sees_it(store):
    store.take(A, ["porch"], 10, now=1000)
    assert store.take(B, ["porch"], 10, now=1009)["porch"].host == "host-a"
    taken = store.take(B, ["porch"], 10, now=1010)["porch"]
    assert (taken.holder, taken.acquired_at, taken.expires_at) == (B.id, 1010, 1020)
    assert store.take(A, ["porch"], 10, now=1011)["porch"].holder == B.id  # A cannot renew
    assert not taken.live(now=1020) and taken.live(now=1019)


def test_a_restarted_process_is_a_new_holder(store):
    """Same host and pid, another start: the old lease is not its own until it expires."""
    store.take(A, ["porch"], 10, now=1000)
    again = LeaseHolder(A.host, A.pid, "cccc")
    assert store.take(again, ["porch"], 10, now=1005)["porch"].holder == A.id


def test_release_and_leave(store):
    store.take(A, ["porch", "roof"], 30, now=1000)
    store.beat(A, now=1000)
    store.beat(B, now=1001)
    store.beat(A, now=1002)
    assert [(h.host, h.started_at, h.heartbeat_at) for h in store.hosts()] == [
        ("host-a", 1000, 1002), ("host-b", 1001, 1001),
    ]  # fmt: skip
    store.release(A, ["roof"])
    assert [x.camera_id for x in store.leases()] == ["porch"]
    store.release(B)  # someone else's leases are not touched
    assert [x.camera_id for x in store.leases()] == ["porch"]
    store.leave(A)
    assert store.leases() == [] and [h.host for h in store.hosts()] == ["host-b"]
    store.beat(A, now=1000 + 2 * 86400)  # hosts silent for a day are forgotten
    assert [h.host for h in store.hosts()] == ["host-a"]


# --- the keeper: heartbeat, takeover after a crash, a lease lost while paused -------------------

HOLDER = """
import sys, time
from pylapse.capture.leasekeeper import LeaseKeeper
from pylapse.capture.leases import SITE_DUTY, LeaseHolder, LeaseStore
keeper = LeaseKeeper(LeaseStore(sys.argv[1]), LeaseHolder.this_process("host-a"), seconds=2,
                     wanted=lambda: ["porch"], on_change=lambda held: None)
print(sorted(keeper.start()), flush=True)
time.sleep(60)
"""


def _keeper(store, holder, seconds, wanted, changes=None):
    told = changes if changes is not None else []
    return LeaseKeeper(store, holder, seconds=seconds, wanted=lambda: wanted,
                       on_change=told.append)  # fmt: skip


def test_a_killed_holder_is_taken_over_once_its_lease_expires(store, index_location, repo):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, index_location], stdout=subprocess.PIPE, text=True,
        cwd=repo,
    )  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "['porch']"
        changes = []
        keeper = _keeper(store, B, 2, ["porch"], changes)
        assert keeper.reconcile() == frozenset()
        time.sleep(2.5)  # its heartbeat (every 2/3 s) keeps the lease alive
        assert keeper.reconcile() == frozenset()
        assert [h.host for h in store.hosts()] == ["host-b", "host-a"]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while not keeper.reconcile() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert keeper.held == {"porch"} and changes == [frozenset({"porch"})]
        assert keeper.may_write("porch") is None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_lease_lost_while_paused_stops_writes_at_once(store):
    changes = []
    paused = _keeper(store, A, 1, ["porch"], changes)  # never started: nobody renews for it
    assert paused.reconcile() == {"porch"} and paused.may_write("porch") is None
    time.sleep(1.1)
    assert _keeper(store, B, 30, ["porch"]).reconcile() == {"porch"}
    assert paused.may_write("porch") == "porch: lease lost to host host-b (pid 202)"
    assert paused.held == frozenset()
    assert paused.may_write("porch") == "porch: captured by host host-b (pid 202), not here"
    paused.reconcile()
    assert changes == [frozenset({"porch"}), frozenset()]


def test_the_site_duty_has_one_holder_and_moves_when_it_expires(store, caplog):
    """The duty rides on the camera heartbeat; a holder that stops renewing (crashed, or its
    release failed) loses it to another host once its lease runs out, and knows it."""
    caplog.set_level(logging.INFO, logger="pylapse.capture")
    first = LeaseKeeper(store, A, seconds=1, wanted=lambda: ["porch"], on_change=print,
                        duty=True)  # fmt: skip
    second = LeaseKeeper(store, B, seconds=1, wanted=lambda: ["yard"], on_change=print,
                         duty=True)  # fmt: skip
    assert first.reconcile(notify=False) == {"porch"} and first.has_duty
    assert second.reconcile(notify=False) == {"yard"} and not second.has_duty
    assert store.duty().holder == A.id  # type: ignore[union-attr]
    assert sorted(store.live()) == ["porch", "yard"]  # the duty is no camera's lease
    assert [x.camera_id for x in store.leases()] == ["porch", "yard"]
    assert "site duty (scheduled renders) is held by host host-a (pid 101)" in caplog.text
    time.sleep(1.1)  # first renews nothing meanwhile
    assert not first.has_duty  # ran out: it stops counting itself the holder by itself
    second.reconcile(notify=False)
    assert second.has_duty and store.duty().holder == B.id  # type: ignore[union-attr]
    assert "site duty (scheduled renders) taken by host host-b (pid 202)" in caplog.text
    first.reconcile(notify=False)
    assert not first.has_duty and first.held == {"porch"}
    plain = _keeper(store, A, 30, ["porch"])  # a keeper without the duty never takes it
    second.stop()
    plain.reconcile()
    assert store.duty() is None


def test_no_camera_can_be_named_as_the_site_duty(tmp_path):
    config = _config(tmp_path, {SITE_DUTY: {}, "porch": {}}, "")
    assert list(config.cameras) == ["porch"]  # set aside as invalid, never captured
    (problem,) = config.invalid_cameras[SITE_DUTY].problems
    assert "id '/duty' is not accepted" in problem


def test_a_camera_nobody_holds_may_be_grabbed_by_anyone(store):
    """A "grab now" of a camera that has no schedule (so no lease) or is pinned elsewhere."""
    keeper = _keeper(store, A, 30, [])
    assert keeper.may_write("porch") is None
    store.take(B, ["porch"], 30)
    assert keeper.may_write("porch") == "porch: captured by host host-b (pid 202), not here"


def test_a_low_lease_nobody_took_is_renewed_before_writing(store):
    slow = _keeper(store, A, 1, ["porch"])
    slow.reconcile()
    time.sleep(1.1)  # expired, but free: the write may go ahead after renewing
    assert slow.may_write("porch") is None
    assert store.take(B, ["porch"], 1)["porch"].holder == A.id


# --- the scheduler: which cameras run where ----------------------------------------------------


def _config(tmp_path, cameras, index, lease=3.0):
    hourly = [{"id": "h", "type": "interval", "interval_amount": 1, "interval_unit": "hours"}]
    raw = {
        "cameras": {
            cid: {
                "url": "http://127.0.0.1:9/shot.jpg",
                "output_dir": f"frames/{cid}",
                "schedules": hourly,
                **extra,
            }
            for cid, extra in cameras.items()
        },
        "data_dir": "data",
        "min_free_mb": 0,
        "capture": {"lease_seconds": lease},
        **({"index_url": index} if index.startswith("postgresql:") else {}),
    }
    return parse_config(raw, tmp_path / "capture_config.json")


def _jobs(sched):
    return sorted(job.kwargs["camera_id"] for job in sched._sched.get_jobs())


def _wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_pinned_cameras_run_only_on_their_host_and_unpinned_ones_move(
    tmp_path, index_location, caplog
):
    caplog.set_level(logging.INFO, logger="pylapse.capture")
    config = _config(tmp_path, {
        "pinned-a": {"capture_host": "a"}, "pinned-b": {"capture_host": "b"}, "free": {},
        "off": {"enabled": False},
    }, index_location)  # fmt: skip
    a = CaptureScheduler(config, host="a")
    b = CaptureScheduler(config, host="b")
    a.start()
    try:
        assert a.leases.held == {"pinned-a", "free"} and _jobs(a) == ["free", "pinned-a"]
        pinned = "camera pinned-b is pinned to host b (capture_host): not captured here, on host a"
        assert pinned in caplog.text
        b.start()
        assert b.leases.held == {"pinned-b"} and _jobs(b) == ["pinned-b"]
        a.shutdown()  # a clean stop releases at once: b takes the unpinned camera only
        assert _wait_for(lambda: b.leases.held == {"pinned-b", "free"})
        assert _jobs(b) == ["free", "pinned-b"]
        time.sleep(0.5)
        assert "pinned-a" not in b.leases.held
        # a config edit pinning "free" to host a: b lets it go on the reload
        b.reload(_config(tmp_path, {
            "pinned-a": {"capture_host": "a"}, "pinned-b": {"capture_host": "b"},
            "free": {"capture_host": "a"},
        }, index_location))  # fmt: skip
        assert b.leases.held == {"pinned-b"} and _jobs(b) == ["pinned-b"]
        assert [x.camera_id for x in b.leases.store.leases()] == ["pinned-b"]
    finally:
        a.shutdown()
        b.shutdown()


def test_a_bad_host_name_is_refused_clearly(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="'no spaces' is not a host name"):
        CaptureScheduler(_config(tmp_path, {}, ""), host="no spaces")
    monkeypatch.setenv("PYLAPSE_HOST", "bad/name")
    with pytest.raises(ValueError, match=r"\$PYLAPSE_HOST: 'bad/name' is not a host name"):
        CaptureScheduler(_config(tmp_path, {}, ""))


def test_a_pause_on_one_host_shows_on_its_own_cameras_only(tmp_path, index_location):
    from pylapse.capture.health import HealthStore

    config = _config(tmp_path, {"pinned-a": {"capture_host": "a"},
                                "pinned-b": {"capture_host": "b"}}, index_location)  # fmt: skip
    # each host its own data folder (its pauses), one index (the health every dashboard reads)
    ha = HealthStore(config.index_location, data_path=tmp_path / "a")
    hb = HealthStore(config.index_location, data_path=tmp_path / "b")
    a = CaptureScheduler(config, host="a", health=ha, data_path=tmp_path / "a")
    b = CaptureScheduler(config, host="b", health=hb, data_path=tmp_path / "b")
    a.start()
    b.start()
    try:
        b.pause()  # everything on b
        assert hb.get("pinned-b").paused_reason and ha.get("pinned-a").paused_reason is None
        a.pause("pinned-a")
        b.resume()  # b's resume leaves a's own pause alone
        assert ha.get("pinned-a").paused_reason and hb.get("pinned-b").paused_reason is None
    finally:
        a.shutdown()
        b.shutdown()
        ha.close()
        hb.close()
