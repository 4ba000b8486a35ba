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
