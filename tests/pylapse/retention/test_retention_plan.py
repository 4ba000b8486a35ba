"""retention.plan: what a run removes, decided from rows and the policy (pure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pylapse import timeutil
from pylapse.config.presets import ExportPreset
from pylapse.config.retention import RetentionConfig
from pylapse.retention.plan import Candidate, Policy, Reason, plan_day
from pylapse.retention.protect import is_protected, keep_spans, preset_spans

BERLIN = timeutil.zone("Europe/Berlin")
DAY = datetime(2026, 3, 2, tzinfo=BERLIN)  # a Monday, UTC+1
NOW = (DAY + timedelta(days=40)).timestamp()


def _frames(step_minutes: float, count: int, start: datetime = DAY, sharp=None) -> list[Candidate]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(count):  # in real time (UTC), so DST days have their real length
        when = datetime.fromtimestamp(start.timestamp() + step_minutes * 60 * i, start.tzinfo)
        s = None if sharp is None else sharp(i)
        out.append(Candidate(i + 1, "/f", f"{i}.jpg", when.timestamp(),
                             timeutil.offset_seconds(when), 100 + i, s))  # fmt: skip
    return out


def _policy(**fields: object) -> Policy:
    return Policy.of(RetentionConfig(**{"keep_all_days": 30, **fields}), NOW)  # type: ignore[arg-type]


def _kept(frames: list[Candidate], plan) -> list[str]:  # type: ignore[no-untyped-def]
    gone = {d.id for d in plan.doomed}
    return [f.name for f in frames if f.id not in gone]


def test_thinning_without_scores_keeps_the_first_frame_of_each_window() -> None:
    frames = _frames(1, 60)  # one a minute for an hour
    plan = plan_day(DAY.date(), frames, _policy(thin_minutes=10), [])
    assert _kept(frames, plan) == [f"{i}.jpg" for i in range(0, 60, 10)]
    assert plan.count(Reason.THIN) == 54 and plan.kept == 6
    assert plan.bytes == sum(f.size or 0 for f in frames) - sum(100 + i for i in range(0, 60, 10))


def test_thinning_keeps_the_best_scored_frame_of_each_window() -> None:
    # sharpness peaks at minute 7 of each 10, with a tie at 3 and 8 in the second window
    def sharp(i: int) -> float | None:
        if i >= 50:
            return None  # the last window was never measured except one frame
        return {7: 90.0, 13: 50.0, 18: 50.0}.get(i, 10.0)

    frames = _frames(1, 60, sharp=sharp)
    frames[55] = Candidate(56, "/f", "55.jpg", frames[55].utc, frames[55].offset, 1, 5.0)
    plan = plan_day(DAY.date(), frames, _policy(thin_minutes=10), [])
    assert _kept(frames, plan) == ["7.jpg", "13.jpg", "20.jpg", "30.jpg", "40.jpg", "55.jpg"]


def test_frames_younger_than_keep_all_days_are_never_touched() -> None:
    young = datetime.fromtimestamp(NOW, BERLIN) - timedelta(days=29, hours=23)
    frames = _frames(1, 30, start=young)
    plan = plan_day(young.date(), frames, _policy(thin_minutes=10, delete_after_days=30.5), [])
    assert plan.doomed == ()


def test_expired_frames_all_go_unless_protected() -> None:
    frames = _frames(30, 48)  # the whole day, every half hour
    policy = _policy(thin_minutes=60, delete_after_days=35)
    noon = (DAY + timedelta(hours=12)).timestamp()
    plan = plan_day(DAY.date(), frames, policy, [(noon, noon + 3600)])
    assert {d.reason for d in plan.doomed} == {Reason.EXPIRED}
    assert _kept(frames, plan) == ["24.jpg", "25.jpg"]
    assert plan.protected == 2


def test_protected_frames_survive_thinning() -> None:
    frames = _frames(1, 20)
    span = (frames[4].utc, frames[6].utc)  # frames 4 and 5
    plan = plan_day(DAY.date(), frames, _policy(thin_minutes=10), [span])
    assert _kept(frames, plan) == ["0.jpg", "4.jpg", "5.jpg", "10.jpg"]
    assert plan.protected == 2


def test_windows_follow_the_wall_clock_across_the_dst_change() -> None:
    # 2026-03-29 in Berlin has 23 hours; one frame every 30 min of real time
    day = datetime(2026, 3, 29, tzinfo=BERLIN)
    frames = _frames(30, 46, start=day)
    policy = Policy.of(RetentionConfig(keep_all_days=1, thin_minutes=120), NOW)
    plan = plan_day(day.date(), frames, policy, [])
    walls = sorted(
        datetime.fromtimestamp(f.utc, BERLIN).strftime("%H:%M")
        for f in frames
        if f.id not in {d.id for d in plan.doomed}
    )
    # 02:00-03:00 never happened: the 02:00-04:00 window keeps its first frame, 03:00
    assert walls == ["00:00", "03:00", *(f"{h:02d}:00" for h in range(4, 24, 2))]


def test_keep_days_and_preset_ranges_become_spans() -> None:
    retention = RetentionConfig(keep=["2026-03-02", "2026-03-05..2026-03-06"])
    spans = keep_spans(retention, BERLIN)
    assert is_protected(DAY.timestamp(), spans)
    assert not is_protected((DAY - timedelta(seconds=1)).timestamp(), spans)
    assert is_protected((DAY + timedelta(days=4, hours=23)).timestamp(), spans)
    assert not is_protected((DAY + timedelta(days=5)).timestamp(), spans)
    presets = [
        (ExportPreset(collection="c", date_from="2026-03-10", date_to="2026-03-10"), BERLIN),
        (ExportPreset(collection="c", date_from="2026-04-01"), BERLIN),
        (ExportPreset(collection="c"), BERLIN),  # no range: protects nothing
    ]
    spans = preset_spans(presets)
    assert len(spans) == 2
    assert is_protected(datetime(2026, 3, 10, 23, tzinfo=BERLIN).timestamp(), spans)
    assert not is_protected(datetime(2026, 3, 11, tzinfo=BERLIN).timestamp(), spans)
    assert is_protected(datetime(2030, 1, 1, tzinfo=BERLIN).timestamp(), spans)
    assert date(2026, 3, 2) == DAY.date()
