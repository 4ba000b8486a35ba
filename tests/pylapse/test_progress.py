"""Progress reports: the percent a report shows, a callback that fails, and the throttle."""

from __future__ import annotations

import logging
import threading

import pytest

from pylapse.progress import Cancelled, Progress, Throttle, safe_report

HOUR = 3600.0  # a throttle interval no test run comes near: only the rule lets a report pass


@pytest.mark.parametrize(
    ("done", "total", "percent"),
    [
        (0, 10, 0.0),
        (1, 4, 25.0),
        (10, 10, 100.0),
        (15, 10, 100.0),  # more done than announced: never past 100
        (-1, 10, 0.0),  # and never below 0
        (5, 0, 0.0),  # total unknown
        (5, -1, 0.0),
    ],
)
def test_percent_is_clamped_and_zero_while_the_total_is_unknown(done, total, percent):
    assert Progress("scan", done, total).percent == percent


def test_a_report_carries_what_it_was_given():
    p = Progress("encode", 3, 9, rate=1.5, eta=4.0, message="3 of 9")
    assert (p.stage, p.done, p.total, p.rate, p.eta, p.message) == (
        "encode",
        3,
        9,
        1.5,
        4.0,
        "3 of 9",
    )
    assert Progress("select", 0, 0) == Progress("select", 0, 0, None, None, "")
    with pytest.raises(AttributeError):
        p.done = 4  # type: ignore[misc]  # frozen: a report cannot change after it was sent


def test_cancelled_is_an_exception_of_its_own():
    assert issubclass(Cancelled, Exception) and not issubclass(Cancelled, ValueError)


def test_safe_report_passes_the_report_on():
    seen: list[Progress] = []
    p = Progress("scan", 1, 2)
    safe_report(seen.append, p)
    assert seen == [p]
    safe_report(None, p)  # no listener: nothing happens


def test_a_failing_callback_is_logged_and_never_breaks_the_work(caplog):
    def broken(progress: Progress) -> None:
        raise RuntimeError("the browser went away")

    with caplog.at_level(logging.ERROR, logger="pylapse.progress"):
        safe_report(broken, Progress("encode", 1, 2))
    (record,) = caplog.records
    assert record.getMessage() == "progress callback failed (ignored)"
    assert record.exc_info is not None and "the browser went away" in str(record.exc_info[1])


def test_a_callback_that_cancels_is_not_swallowed():
    def stop(progress: Progress) -> None:
        raise KeyboardInterrupt  # not an Exception: it must reach the worker

    with pytest.raises(KeyboardInterrupt):
        safe_report(stop, Progress("encode", 1, 2))


def test_the_throttle_passes_the_first_report_then_holds_the_rest():
    seen: list[Progress] = []
    throttle = Throttle(seen.append, interval=HOUR)
    reports = [Progress("process", k, 10) for k in range(10)]
    for p in reports:
        throttle(p)
    assert seen == reports[:1]


def test_the_throttle_always_passes_the_last_report():
    seen: list[Progress] = []
    throttle = Throttle(seen.append, interval=HOUR)
    for k in range(11):
        throttle(Progress("process", k, 10))
    throttle(Progress("process", 12, 10))  # past the total: still final
    assert [p.done for p in seen] == [0, 10, 12]


def test_a_report_with_an_unknown_total_is_never_final():
    seen: list[Progress] = []
    throttle = Throttle(seen.append, interval=HOUR)
    for k in range(3):
        throttle(Progress("scan", k, 0))
    assert [p.done for p in seen] == [0]


def test_the_throttle_passes_every_stage_change():
    seen: list[Progress] = []
    throttle = Throttle(seen.append, interval=HOUR)
    for stage, done in [("select", 0), ("select", 1), ("process", 0), ("process", 1),
                        ("encode", 0), ("process", 2)]:  # fmt: skip
        throttle(Progress(stage, done, 10))
    assert [(p.stage, p.done) for p in seen] == [
        ("select", 0),
        ("process", 0),
        ("encode", 0),
        ("process", 2),
    ]


def test_without_an_interval_every_report_passes():
    seen: list[Progress] = []
    throttle = Throttle(seen.append, interval=0)
    for k in range(5):
        throttle(Progress("process", k, 10))
    assert [p.done for p in seen] == [0, 1, 2, 3, 4]


def test_the_default_interval_holds_reports_made_together():
    seen: list[Progress] = []
    throttle = Throttle(seen.append)
    for k in range(1000):  # far quicker than the half second a report is held
        throttle(Progress("process", k, 2000))
    assert len(seen) < 1000 and seen[0].done == 0


def test_a_throttle_without_a_callback_does_nothing():
    Throttle(None, interval=0)(Progress("process", 1, 2))


def test_a_throttle_shared_by_threads_passes_each_final_report():
    seen: list[Progress] = []
    throttle = Throttle(seen.append, interval=HOUR)

    def work(stage: str) -> None:
        for k in range(200):
            throttle(Progress(stage, k + 1, 200))

    threads = [threading.Thread(target=work, args=("process",)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(p.done == 200 for p in seen) == 4  # every worker's last report got through


class _Clock:
    """Stands in for the time module the throttle reads (``time.monotonic``)."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


def test_the_interval_is_measured_from_the_last_report_passed(monkeypatch):
    from pylapse import progress

    clock = _Clock()
    monkeypatch.setattr(progress, "time", clock)  # the name Throttle reads the time through
    seen: list[Progress] = []
    throttle = Throttle(seen.append)  # the default: one report per half second
    for now, done in [(0.0, 0), (0.49, 1), (0.5, 2), (0.9, 3), (1.0, 4), (1.2, 5)]:
        clock.now = now
        throttle(Progress("process", done, 10))
    assert [p.done for p in seen] == [0, 2, 4]  # exactly 0.5 s after the last one passes


def test_the_first_report_passes_whatever_its_stage_and_the_clock(monkeypatch):
    from pylapse import progress

    monkeypatch.setattr(progress, "time", _Clock())  # a clock that reads 0, as at boot
    seen: list[Progress] = []
    throttle = Throttle(seen.append, interval=HOUR)
    throttle(Progress("", 0, 10))
    throttle(Progress("", 1, 1))  # a total of one: done is final
    assert [p.done for p in seen] == [0, 1]
