"""Sun events, points, windows and polar gaps, checked against astral's own event functions."""

from __future__ import annotations

from array import array
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from astral import Observer
from astral.sun import dawn, dusk, noon, sunrise, sunset

from pylapse.selection.sun import (
    DAY,
    NIGHT,
    SunEvent,
    SunGap,
    SunPoint,
    event_time,
    in_windows,
    keep_frames_in_windows,
    keep_in_windows,
    parse_window,
    sun_targets,
    sun_time,
    sun_window,
    window_spans,
)
from pylapse.selection.targets import SelectionError

BERLIN = (52.52, 13.40, ZoneInfo("Europe/Berlin"))
SYDNEY = (-33.87, 151.21, ZoneInfo("Australia/Sydney"))
QUITO = (-0.18, -78.47, ZoneInfo("America/Guayaquil"))
SVALBARD = (78.22, 15.65, ZoneInfo("Arctic/Longyearbyen"))
TROMSO = (69.65, 18.96, ZoneInfo("Europe/Oslo"))

ASTRAL = {
    SunEvent.SUNRISE: lambda o, d, z: sunrise(o, d, z),
    SunEvent.SUNSET: lambda o, d, z: sunset(o, d, z),
    SunEvent.NOON: lambda o, d, z: noon(o, d, z),
    SunEvent.CIVIL_DAWN: lambda o, d, z: dawn(o, d, 6, z),
    SunEvent.CIVIL_DUSK: lambda o, d, z: dusk(o, d, 6, z),
    SunEvent.NAUTICAL_DAWN: lambda o, d, z: dawn(o, d, 12, z),
    SunEvent.ASTRONOMICAL_DUSK: lambda o, d, z: dusk(o, d, 18, z),
}


def _year(start: date = date(2026, 1, 1)) -> list[date]:
    return [start + timedelta(days=k) for k in range(365)]


def _astral(event, observer, day, zone):
    try:
        return ASTRAL[event](observer, day, zone)
    except ValueError:  # astral: no such event on that local date
        return None


def _nearest_astral(event, observer, at, zone):
    """astral's event nearest ``at`` among the local dates around it (astral files an event
    by its local date, so a dusk after midnight is the next date's to astral)."""
    found = [_astral(event, observer, at.date() + timedelta(days=k), zone) for k in (-1, 0, 1)]
    near = [t for t in found if t is not None and abs(t - at) < timedelta(hours=3)]
    return min(near, key=lambda t: abs(t - at), default=None)


@pytest.mark.parametrize("place", [BERLIN, SYDNEY, QUITO], ids=["berlin", "sydney", "quito"])
@pytest.mark.parametrize("event", list(ASTRAL), ids=str)
def test_events_match_astral_every_day_of_a_year(place, event) -> None:
    lat, lon, zone = place
    observer = Observer(lat, lon)
    gaps = []
    for day in _year():
        ours = event_time(day, lat, lon, zone, event)
        if isinstance(ours, SunGap):  # Berlin's summer nights have no astronomical dusk
            assert ours.up and _astral(event, observer, day, zone) is None, str(ours)
            gaps.append(day)
            continue
        theirs = _nearest_astral(event, observer, ours, zone)
        if theirs is None:  # the first or last astronomical dusk of Berlin's spring or summer
            assert event is SunEvent.ASTRONOMICAL_DUSK and 5 <= day.month <= 8
            continue
        assert abs((ours - theirs).total_seconds()) <= 1, (day, ours, theirs)
        assert ours.tzinfo is zone
        if event is not SunEvent.ASTRONOMICAL_DUSK:
            assert ours.date() == day
    if place is BERLIN and event is SunEvent.ASTRONOMICAL_DUSK:
        assert date(2026, 6, 21) in gaps and all(5 <= d.month <= 7 for d in gaps)
    else:
        assert not gaps


@pytest.mark.parametrize("place", [SVALBARD, TROMSO], ids=["svalbard", "tromso"])
def test_arctic_events_match_astral_or_are_gaps_with_the_right_reason(place) -> None:
    from astral.sun import elevation, zenith

    lat, lon, zone = place
    observer = Observer(lat, lon)
    gaps = {True: 0, False: 0}
    edges = 0
    for day in _year():
        for event in (SunEvent.SUNRISE, SunEvent.SUNSET, SunEvent.CIVIL_DUSK):
            ours = event_time(day, lat, lon, zone, event)
            if isinstance(ours, SunGap):
                gaps[ours.up] += 1
                midday = event_time(day, lat, lon, zone, SunEvent.NOON)
                assert isinstance(midday, datetime)
                high = elevation(observer, midday, with_refraction=False)
                depth = 6.0 if event is SunEvent.CIVIL_DUSK else 32 / 120
                assert (high > -depth) == ours.up, (day, event, high)
                continue
            theirs = _nearest_astral(event, observer, ours, zone)
            if theirs is None or abs((ours - theirs).total_seconds()) > 60:
                # near the midnight sun or polar night astral's sunrise() for the local date
                # finds no crossing, or lands minutes off (its formula wraps at UTC midnight):
                # ours must then be the better crossing of the event's angle
                depth = 6.0 if event is SunEvent.CIVIL_DUSK else 50 / 60
                miss = abs(90 - zenith(observer, ours, with_refraction=False) - -depth)
                assert miss < 0.1, (day, event, ours, miss)
                if theirs is not None:
                    other = abs(90 - zenith(observer, theirs, with_refraction=False) - -depth)
                    assert miss < other, (day, event, ours, theirs)
                edges += 1
    assert gaps[True] > 40 and gaps[False] > 40  # both midnight sun and polar night
    assert edges <= 8


def test_polar_gap_messages() -> None:
    lat, lon, zone = SVALBARD
    summer = event_time(date(2026, 6, 21), lat, lon, zone, "sunset")
    assert str(summer) == "no sunset on 2026-06-21 at 78.2°N: the sun stays up"
    winter = event_time(date(2026, 12, 21), lat, lon, zone, "sunrise")
    assert str(winter) == "no sunrise on 2026-12-21 at 78.2°N: the sun stays down"
    dusk_gap = event_time(date(2026, 5, 10), lat, lon, zone, "nautical_dusk")
    assert str(dusk_gap).endswith("the sun never gets 12° below the horizon")
    south = event_time(date(2026, 6, 21), -77.85, 166.67, ZoneInfo("Antarctica/McMurdo"), "noon")
    assert isinstance(south, datetime)  # solar noon always happens
    assert "77.8°S" in str(
        event_time(date(2026, 6, 21), -77.85, 166.67, ZoneInfo("UTC"), "sunrise")
    )


def test_sunset_after_midnight_belongs_to_the_evening_before() -> None:
    # Tromsø, 17 May: the sun sets after local midnight; that sunset is the 16th's, and no day
    # has two sunsets or none
    lat, lon, zone = TROMSO
    times = [event_time(date(2026, 5, d), lat, lon, zone, "sunset") for d in range(10, 20)]
    real = [t for t in times if isinstance(t, datetime)]
    assert all(b - a > timedelta(hours=23) for a, b in pairwise(real))
    assert any(t.date() != date(2026, 5, 10 + k) for k, t in enumerate(times) if t in real)


def test_offsets_are_elapsed_time_across_dst() -> None:
    lat, lon, zone = BERLIN
    rise = event_time(date(2026, 3, 29), lat, lon, zone, "sunrise")
    assert isinstance(rise, datetime)
    before = sun_time(date(2026, 3, 29), lat, lon, zone, "sunrise-6h")
    assert isinstance(before, datetime)
    assert rise.timestamp() - before.timestamp() == pytest.approx(6 * 3600, abs=1e-3)
    assert before.utcoffset() == timedelta(hours=1) and rise.utcoffset() == timedelta(hours=2)


def test_points_parse_and_print() -> None:
    assert SunPoint.parse("sunset-30m") == SunPoint(SunEvent.SUNSET, timedelta(minutes=-30))
    assert SunPoint.parse("Civil dawn + 1h30m").offset == timedelta(minutes=90)
    assert SunPoint.parse("solar_noon").event is SunEvent.NOON
    assert SunPoint.parse("dusk+90s") == SunPoint(SunEvent.CIVIL_DUSK, timedelta(seconds=90))
    assert SunPoint.parse("sunrise - 1:15").offset == timedelta(minutes=-75)
    assert str(SunPoint.parse("civil-dusk+1h30m")) == "civil_dusk+1h30m"
    assert str(SunPoint.parse("noon")) == "noon"
    for bad, words in [("moonrise", "not a sun event"), ("sunset-30x", "'sunset-30x'")]:
        with pytest.raises(SelectionError, match=words):
            SunPoint.parse(bad)
    assert parse_window("night") == NIGHT
    assert parse_window("civil_dawn-30m..civil_dusk+30m") == DAY
    assert parse_window("sunset+1h to sunrise-1h") == NIGHT
    with pytest.raises(SelectionError, match="not a window"):
        parse_window("sunset")


def test_night_window_spans_midnight_and_the_dst_change() -> None:
    lat, lon, zone = BERLIN
    start, end = sun_window(date(2026, 3, 28), lat, lon, zone, *NIGHT)  # type: ignore[misc]
    observer = Observer(lat, lon)
    assert start == sunset(observer, date(2026, 3, 28), zone) + timedelta(hours=1)
    assert abs(end - (sunrise(observer, date(2026, 3, 29), zone) - timedelta(hours=1))) < timedelta(
        seconds=1
    )
    assert start.utcoffset() == timedelta(hours=1) and end.utcoffset() == timedelta(hours=2)
    # the autumn change: the window is one elapsed hour longer than the wall clock says
    start, end = sun_window(date(2026, 10, 24), lat, lon, zone, *NIGHT)  # type: ignore[misc]
    assert end.date() == date(2026, 10, 25) and end.utcoffset() == timedelta(hours=1)


def test_day_window_and_its_polar_cases() -> None:
    lat, lon, zone = BERLIN
    start, end = sun_window(date(2026, 6, 1), lat, lon, zone, *DAY)  # type: ignore[misc]
    observer = Observer(lat, lon)
    assert start == dawn(observer, date(2026, 6, 1), 6, zone) - timedelta(minutes=30)
    assert end == dusk(observer, date(2026, 6, 1), 6, zone) + timedelta(minutes=30)
    lat, lon, zone = SVALBARD
    summer = sun_window(date(2026, 6, 21), lat, lon, zone, "sunrise", "sunset")
    assert isinstance(summer, tuple)  # midnight sun: the whole solar day is day
    assert summer[1] - summer[0] == timedelta(hours=24)
    winter = sun_window(date(2026, 12, 21), lat, lon, zone, "sunrise", "sunset")
    assert isinstance(winter, SunGap) and winter.up is False
    assert str(winter) == (
        "no window sunrise..sunset on 2026-12-21 at 78.2°N: sunrise: the sun stays down"
    )
    night = sun_window(date(2026, 12, 21), lat, lon, zone, *NIGHT)
    assert isinstance(night, tuple) and night[1] - night[0] > timedelta(hours=23)
    no_night = sun_window(date(2026, 6, 21), lat, lon, zone, *NIGHT)
    assert isinstance(no_night, SunGap) and "the sun stays up" in str(no_night)


def test_a_short_night_window_is_empty() -> None:
    # Oslo at midsummer: sunset + 1 h is after sunrise - 1 h
    gap = sun_window(
        date(2026, 6, 21), 59.91, 10.75, ZoneInfo("Europe/Oslo"), "sunset+3h", "sunrise-3h"
    )
    assert isinstance(gap, SunGap) and "the window is empty" in gap.reason
    assert (gap.day, gap.what, gap.up) == (date(2026, 6, 21), "window sunset+3h..sunrise-3h", True)
    assert str(gap).startswith("no window sunset+3h..sunrise-3h on 2026-06-21 at 59.9°N: ")


def test_spans_cover_a_range_and_filter_times() -> None:
    lat, lon, zone = BERLIN
    first = datetime(2026, 3, 27, tzinfo=zone).timestamp()
    last = datetime(2026, 3, 30, tzinfo=zone).timestamp()
    spans, gaps = window_spans(lat, lon, zone, *NIGHT, first, last)
    assert not gaps
    assert len(spans) == 4  # the night before the 27th reaches into it, and three more
    assert all(a < b for a, b in spans) and all(b < c for (_, b), (c, _) in pairwise(spans))
    noon_27 = datetime(2026, 3, 27, 12, tzinfo=zone).timestamp()
    midnight_28 = datetime(2026, 3, 28, tzinfo=zone).timestamp()
    utcs = [noon_27, midnight_28, midnight_28 + 43200]
    assert in_windows(utcs, spans) == [1]


def test_targets_over_a_range_with_gaps_inside_it_only() -> None:
    lat, lon, zone = SVALBARD
    first = datetime(2026, 4, 15, tzinfo=zone).timestamp()
    last = datetime(2026, 4, 25, tzinfo=zone).timestamp() - 1
    targets, gaps = sun_targets(lat, lon, zone, ["sunset-30m", "noon"], first, last)
    assert all(first <= t <= last for t in targets) and list(targets) == sorted(targets)
    noons = [t for t in targets if datetime.fromtimestamp(t, zone).hour in (12, 13)]
    assert len(noons) == 10
    sunsets = len(targets) - len(noons)
    assert sunsets + len(gaps) == 10 and gaps and sunsets  # midnight sun begins about 19 April
    assert all(g.what == "sunset" and g.up and g.day >= date(2026, 4, 15) for g in gaps)
    with pytest.raises(SelectionError, match="at least one"):
        sun_targets(lat, lon, zone, [], first, last)


def test_bad_places_are_refused() -> None:
    with pytest.raises(SelectionError, match="latitude"):
        event_time(date(2026, 1, 1), 91, 0, UTC, "sunrise")
    with pytest.raises(SelectionError, match="longitude"):
        event_time(date(2026, 1, 1), 0, 200, UTC, "sunrise")


def test_the_last_polar_night_ends_at_the_first_sunrise() -> None:
    # Svalbard, February 2027: the sun first rises on the 16th; the night window of the 15th
    # runs from that day's solar noon (no sunset: the sun stays down) to sunrise - 1 h of the 16th
    lat, lon, zone = SVALBARD
    assert isinstance(event_time(date(2027, 2, 15), lat, lon, zone, "sunrise"), SunGap)
    rise = event_time(date(2027, 2, 16), lat, lon, zone, "sunrise")
    assert isinstance(rise, datetime)
    start, end = sun_window(date(2027, 2, 15), lat, lon, zone, *NIGHT)  # type: ignore[misc]
    assert end == rise - timedelta(hours=1)
    assert start == event_time(date(2027, 2, 15), lat, lon, zone, "noon")
    before = sun_window(date(2027, 2, 14), lat, lon, zone, *NIGHT)
    assert isinstance(before, tuple) and before[1] - before[0] > timedelta(hours=23)


def test_the_first_sunset_after_the_midnight_sun_is_found() -> None:
    # astral's formula raises for the 25th and 26th (UTC dates); the 27th's finds the crossing
    lat, lon, zone = TROMSO
    assert isinstance(event_time(date(2026, 7, 25), lat, lon, zone, "sunset"), SunGap)
    first = event_time(date(2026, 7, 26), lat, lon, zone, "sunset")
    assert isinstance(first, datetime) and first.date() == date(2026, 7, 27)
    assert first.hour == 0 and first.tzinfo is zone


def test_windows_are_in_the_zone_and_match_astral_far_from_utc() -> None:
    lat, lon, zone = SYDNEY
    observer = Observer(lat, lon)
    for day in (date(2026, 1, 15), date(2026, 4, 5), date(2026, 10, 4)):  # Sydney's DST days too
        start, end = sun_window(day, lat, lon, zone, *DAY)  # type: ignore[misc]
        assert start == dawn(observer, day, 6, zone) - timedelta(minutes=30)
        assert end == dusk(observer, day, 6, zone) + timedelta(minutes=30)
        assert start.tzinfo is zone and end.tzinfo is zone
        night = sun_window(day, lat, lon, zone, *NIGHT)
        assert isinstance(night, tuple) and night[1].date() == day + timedelta(days=1)
        assert night[1] == sunrise(observer, day + timedelta(days=1), zone) - timedelta(hours=1)
        shifted = sun_time(day, lat, lon, zone, "noon+1h")
        assert isinstance(shifted, datetime) and shifted.tzinfo is zone
    lat, lon, zone = SVALBARD
    polar = sun_window(date(2026, 12, 21), lat, lon, zone, *NIGHT)
    assert isinstance(polar, tuple) and all(t.tzinfo is zone for t in polar)
    assert timedelta(hours=23) < polar[1] - polar[0] < timedelta(hours=25)  # noon to noon
    gap = sun_time(date(2026, 12, 21), lat, lon, zone, "sunrise+1h")
    assert isinstance(gap, SunGap) and gap.what == "sunrise"


def test_a_window_from_noon_to_sunrise_in_the_polar_night_runs_to_the_next_noon() -> None:
    lat, lon, zone = SVALBARD
    day = date(2026, 12, 21)
    start, end = sun_window(day, lat, lon, zone, "noon", "sunrise")  # type: ignore[misc]
    assert start == event_time(day, lat, lon, zone, "noon")
    assert end == event_time(day + timedelta(days=1), lat, lon, zone, "noon")


def test_places_at_the_limits_and_latitude_words() -> None:
    for lat, lon in ((-90, -180), (90, 180), (0, 0)):
        assert isinstance(event_time(date(2026, 3, 20), lat, lon, UTC, "noon"), datetime)
    for lat, lon in ((-90.01, 0), (90.01, 0), (0, -180.01), (0, 180.01)):
        with pytest.raises(SelectionError):
            event_time(date(2026, 3, 20), lat, lon, UTC, "noon")
    equator = SunGap(date(2026, 1, 1), "sunset", 0.0, "r", True)
    assert str(equator) == "no sunset on 2026-01-01 at 0.0°N: r"
    assert "0.5°N" in str(SunGap(date(2026, 1, 1), "sunset", 0.5, "r", True))
    assert "0.5°S" in str(SunGap(date(2026, 1, 1), "sunset", -0.5, "r", True))


def test_more_point_forms() -> None:
    assert str(SunPoint.parse("sunrise-1h")) == "sunrise-1h"
    assert str(SunPoint.parse("sunset+2h5s")) == "sunset+2h5s"
    assert str(SunPoint.parse("noon+45m")) == "noon+45m"
    assert str(SunPoint.parse("noon+0m")) == "noon"
    assert SunPoint.parse("noon+1:30:15").offset == timedelta(hours=1, minutes=30, seconds=15)
    pair = (SunEvent.SUNSET, timedelta(minutes=-5))
    assert SunPoint.parse(pair) == SunPoint(SunEvent.SUNSET, timedelta(minutes=-5))
    assert SunPoint.parse(("civil dusk", timedelta(0))).event is SunEvent.CIVIL_DUSK
    assert parse_window(("sunset+1h", "sunrise-1h")) == NIGHT
    with pytest.raises(SelectionError, match=r"not a \(start, end\) pair"):
        parse_window(("sunset", "sunrise", "noon"))  # type: ignore[arg-type]
    with pytest.raises(SelectionError, match="not a duration"):
        SunPoint.parse("sunset-1h x5m")
    with pytest.raises(SelectionError, match="astronomical_dusk"):
        SunPoint.parse("moonset")


def test_targets_at_the_range_ends_and_gaps_of_the_last_day() -> None:
    lat, lon, zone = BERLIN
    at = event_time(date(2026, 5, 1), lat, lon, zone, "sunset")
    assert isinstance(at, datetime)
    t = at.timestamp()
    assert list(sun_targets(lat, lon, zone, ["sunset"], t, t)[0]) == [t]
    lat, lon, zone = SVALBARD
    first = datetime(2026, 6, 20, tzinfo=zone).timestamp()
    last = datetime(2026, 6, 21, 1, tzinfo=zone).timestamp()  # 23:00 UTC of the 20th
    _targets, gaps = sun_targets(lat, lon, zone, ["sunset"], first, last)
    assert [g.day for g in gaps] == [date(2026, 6, 20), date(2026, 6, 21)]


def test_window_spans_at_their_ends() -> None:
    lat, lon, zone = BERLIN
    noon = datetime(2026, 5, 1, 12, tzinfo=zone).timestamp()
    spans, _ = window_spans(lat, lon, zone, *DAY, noon, noon + 86400)
    assert len(spans) == 2  # the 1st's (from before noon) and the 2nd's; the 30th's ended
    a, b = spans[0]
    assert window_spans(lat, lon, zone, *DAY, b, b + 3600)[0] == []  # ends exactly at first
    assert window_spans(lat, lon, zone, *DAY, a - 3600, a)[0] == [(a, b)]  # starts at last


def test_keeping_frames_in_several_windows() -> None:
    spans = [(10.0, 20.0), (30.0, 40.0)]
    utcs = array("d", [5.0, 10.0, 15.0, 25.0, 30.0, 39.0, 40.0])
    ids = array("q", [1, 2, 3, 4, 5, 6, 7])
    kept_ids, kept_utcs = keep_frames_in_windows(ids, utcs, spans)
    assert list(kept_ids) == [2, 3, 5, 6] and list(kept_utcs) == [10.0, 15.0, 30.0, 39.0]
    assert isinstance(kept_ids, array)
    assert keep_frames_in_windows([1, 2], [5.0, 25.0], spans) == ([], [])
    assert list(keep_in_windows(utcs, spans)) == [10.0, 15.0, 30.0, 39.0]


def test_points_sharing_an_event_report_its_gap_once() -> None:
    lat, lon, zone = SVALBARD
    first = datetime(2026, 6, 20, tzinfo=zone).timestamp()
    last = datetime(2026, 6, 23, tzinfo=zone).timestamp() - 1
    points = ["sunset-30m", "noon", "sunset+30m", "civil_dusk"]
    targets, gaps = sun_targets(lat, lon, zone, points, first, last)
    assert len(targets) == 3  # the three noons
    assert [(g.day.day, g.what) for g in gaps] == [
        (d, what) for d in (20, 21, 22) for what in ("sunset", "civil dusk")
    ]


KIRITIMATI = (1.87, -157.4, ZoneInfo("Pacific/Kiritimati"))  # UTC+14: noon is yesterday in UTC


def test_a_zone_far_ahead_of_utc() -> None:
    lat, lon, zone = KIRITIMATI
    observer = Observer(lat, lon)
    for day in (date(2026, 3, 1), date(2026, 9, 1)):
        rise, midday, fall = (
            event_time(day, lat, lon, zone, e) for e in ("sunrise", "noon", "sunset")
        )
        assert isinstance(rise, datetime) and isinstance(midday, datetime)
        assert isinstance(fall, datetime)
        assert rise.date() == midday.date() == fall.date() == day and rise < midday < fall
        assert abs((rise - sunrise(observer, day, zone)).total_seconds()) <= 1
        assert abs((fall - sunset(observer, day, zone)).total_seconds()) <= 1
        start, end = sun_window(day, lat, lon, zone, *DAY)  # type: ignore[misc]
        assert start.date() == day and end.date() == day and start.tzinfo is zone
        night = sun_window(day, lat, lon, zone, *NIGHT)
        assert isinstance(night, tuple) and night[1].date() == day + timedelta(days=1)
    first = datetime(2026, 3, 1, tzinfo=zone).timestamp()
    last = datetime(2026, 3, 3, tzinfo=zone).timestamp() - 1
    targets, gaps = sun_targets(lat, lon, zone, ["noon"], first, last)
    assert not gaps
    assert [datetime.fromtimestamp(t, zone).day for t in targets] == [1, 2]
    spans, _ = window_spans(lat, lon, zone, *DAY, first, last)
    assert [datetime.fromtimestamp(a, zone).day for a, _ in spans] == [1, 2]


def test_a_night_window_whose_morning_never_comes() -> None:
    # Svalbard, 17 April: the last sunset (after midnight), then the midnight sun: no sunrise
    # on the 18th, the sun stays up, so no night window
    lat, lon, zone = SVALBARD
    gap = sun_window(date(2026, 4, 17), lat, lon, zone, *NIGHT)
    assert isinstance(gap, SunGap) and gap.up is True
    assert str(gap) == (
        "no window sunset+1h..sunrise-1h on 2026-04-17 at 78.2°N: sunrise: the sun stays up"
    )


@pytest.mark.parametrize(
    "place", [SVALBARD, (63.43, 10.39, ZoneInfo("Europe/Oslo"))], ids=["svalbard", "trondheim"]
)
@pytest.mark.parametrize("pair", [DAY, NIGHT], ids=["day", "night"])
def test_windows_of_a_year_never_overlap_nor_exceed_a_day(place, pair) -> None:
    # a window is at most a solar day (24 h and the drift of noon) and the widening of its
    # offsets (the day window's 30 min either side, where white nights leave no civil night)
    lat, lon, zone = place
    widening = pair[1].offset - pair[0].offset if pair is DAY else timedelta(0)
    previous = None
    for day in _year():
        w = sun_window(day, lat, lon, zone, *pair)
        if isinstance(w, SunGap):
            previous = None
            continue
        start, end = w
        assert timedelta(0) < end - start <= timedelta(hours=24, minutes=2) + widening, (day, w)
        if previous is not None:
            assert previous[1] <= start + timedelta(minutes=2) + widening, (day, previous, w)
        previous = w


def test_a_place_half_a_world_from_its_zone_still_has_a_noon() -> None:
    # longitude 120 (China) with Detroit's zone: solar noon is near local midnight, and on the
    # 23-hour DST day none of astral's noons falls on the date; the nearest to 12:00 stands in
    zone = ZoneInfo("America/Detroit")
    at = event_time(date(2026, 3, 8), 10.0, 120.0, zone, "noon")
    assert isinstance(at, datetime) and at == datetime(2026, 3, 9, 0, 10, 37, tzinfo=zone)
