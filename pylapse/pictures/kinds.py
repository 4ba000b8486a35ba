"""The kinds of picture made from many frames (issue 18, section 3), and their one error."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ONE_DAY_KINDS", "PictureError", "PictureKind"]


class PictureKind(StrEnum):
    DAYSTRIP = "daystrip"  # one row per slot of a day, each a line of its frame
    KEOGRAM = "keogram"  # one column per slot of a day, each the centre column of its frame
    TIMESLICE = "timeslice"  # column i of the picture from the frame at time t_i of the day
    NIGHTSTACK = "nightstack"  # per-pixel maximum over a night (sunset + 1 h to sunrise - 1 h)
    DAYSTACK = "daystack"  # per-pixel minimum over a day's frames
    COLORMAP = "colormap"  # one pixel per slot, one row per day, from the stored sky colours


#: the kinds made from one day's frames (``colormap`` takes a range of days)
ONE_DAY_KINDS = (
    PictureKind.DAYSTRIP,
    PictureKind.KEOGRAM,
    PictureKind.TIMESLICE,
    PictureKind.NIGHTSTACK,
    PictureKind.DAYSTACK,
)


class PictureError(ValueError):
    """A picture cannot be made as asked (the message names the option and value)."""
