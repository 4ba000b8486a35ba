"""Brute-force references the selection tests compare the fast paths against."""

from __future__ import annotations


def ref_match(utcs, targets, tol):
    """For each target the earliest of the nearest frames within ``tol``, scanning every frame."""
    out = []
    for t in targets:
        best = None
        for i, u in enumerate(utcs):
            d = abs(u - t)
            if d <= tol and (best is None or d < best[0]):
                best = (d, i)
        out.append(best[1] if best else -1)
    return out


def ref_wall_instants(tz, first, last, wanted, step=1):
    """Every UTC second ``u`` in ``[first, last]`` whose wall clock in ``tz`` is ``wanted``
    (``wanted(local_datetime) -> bool``), found by converting each second with zoneinfo.

    Slow and obviously right: no folds, no offsets, no day arithmetic. ``step`` (e.g. 60 for
    rules on whole minutes) skips seconds that cannot match, which holds only while every UTC
    offset met is a multiple of ``step``: that is checked.
    """
    from datetime import datetime

    out = []
    u = -(-int(first) // step) * step
    while u <= last:
        local = datetime.fromtimestamp(u, tz)
        if step > 1:
            assert local.utcoffset().total_seconds() % step == 0, (tz, u)
        if wanted(local):
            out.append(float(u))
        u += step
    return out


def ref_day_targets(day, seconds, tz, both_folds):
    """UTC instants at which the wall clock in ``tz`` reads ``day`` and one of ``seconds``
    (seconds of the day), sorted; a repeated wall time gives both instants or the first only.

    Every instant ``u`` with that wall time satisfies ``u = wall - offset(u)``; the candidate
    offsets are every offset the zone has in force (for 15 minutes or more) within 14 hours of
    the day, each checked by converting back with zoneinfo.
    """
    from datetime import UTC, datetime

    wall0 = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    offsets = {
        int(datetime.fromtimestamp(u, tz).utcoffset().total_seconds())
        for u in range(wall0 - 14 * 3600, wall0 + 86400 + 14 * 3600 + 1, 900)
    }
    out = []
    for s in seconds:
        h, rest = divmod(int(s), 3600)
        m, sec = divmod(rest, 60)
        hits = sorted(
            wall0 + s - off
            for off in offsets
            if _reads(datetime.fromtimestamp(wall0 + s - off, tz), day, h, m, sec)
        )
        out += hits if both_folds else hits[:1]
    return sorted(float(u) for u in out)


def _reads(local, day, h, m, s):
    return (local.date(), local.hour, local.minute, local.second) == (day, h, m, s)
