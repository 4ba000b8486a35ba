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


def ref_skipped_shift(day, seconds, tz):
    """What capture adds for a fixed-time cron rule on a day whose clock skips ahead: the first
    of ``seconds`` (seconds of the day) that does not exist, at its shifted instant (PEP 495:
    ``fold=0`` in a gap takes the offset before it), and the wall seconds of the day it reached,
    up to which the rule's later seconds do not fire. ``(None, -1)`` when nothing is skipped."""
    from datetime import datetime

    for s in sorted(seconds):
        h, rest = divmod(int(s), 3600)
        m, sec = divmod(rest, 60)
        if ref_day_targets(day, [s], tz, both_folds=True):
            continue
        u = datetime(day.year, day.month, day.day, h, m, sec, fold=0, tzinfo=tz).timestamp()
        local = datetime.fromtimestamp(u, tz)
        if local.date() != day:
            return None, -1
        return float(u), local.hour * 3600 + local.minute * 60 + local.second
    return None, -1


def ref_capture_day_targets(day, seconds, tz, fixed):
    """A cron rule's targets on ``day`` as capture fires them: every instant the wall clock reads
    one of ``seconds`` (both copies of a repeated one), and for a ``fixed`` rule (hour and minute
    not wildcards) the first skipped second at its shifted instant, the rest up to the wall time
    it reached dropped."""
    if not fixed:
        return ref_day_targets(day, seconds, tz, both_folds=True)
    shifted, reached = ref_skipped_shift(day, seconds, tz)
    if shifted is None:
        return ref_day_targets(day, seconds, tz, both_folds=True)
    first = min(s for s in seconds if not ref_day_targets(day, [s], tz, both_folds=True))
    kept = [s for s in seconds if s < first or s > reached]
    return sorted([*ref_day_targets(day, kept, tz, both_folds=True), shifted])
