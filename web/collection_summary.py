"""A collection's summary: the totals a collection's pages and the list show (frames, first and
last, the camera, whether its folder is there, how many frames are scored), and whether a scan
or scoring job runs, which keeps the summary polling until it has the job's final count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pylapse.collection import FolderStatus
from pylapse.imaging import quality
from pylapse.index.frame import Frame
from web.routes import _media as m

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.runtime import Runtime

__all__ = ["OLDER_COUNTED", "Summary", "summary"]

# frames not scored yet, or scored by an older method, counted at most for a page (5-13 ms on
# SQLite here: an archive of millions not scored yet would take a second or more at every refresh
# of the summary, which polls every 2 s while a scoring job runs)
OLDER_COUNTED = 100_000


@dataclass(frozen=True)
class Summary:
    id: str
    name: str
    key: str
    path: str
    zone: str
    count: int
    first: Frame | None
    last: Frame | None
    camera: str | None
    configured: bool
    status: FolderStatus
    unscored: int = 0  # frames without quality scores or sky metrics yet, OLDER_COUNTED at most
    older: int = 0  # frames scored by an older method (another scale), OLDER_COUNTED at most
    # a scan or scoring job is running: the summary polls until it renders without one, so a
    # page drawn mid-scan ends with the scan's count even when it missed the job's
    # scan-finished event (a quick first scan can end before the page listens)
    busy: bool = False

    @property
    def scored(self) -> int:
        return self.count - self.unscored

    @property
    def scored_text(self) -> str:
        """How many frames are scored, of how many, for the page ("at most 5,000 of 105,000"
        where the frames not scored yet were counted only up to :data:`OLDER_COUNTED`)."""
        prefix = "at most " if self.unscored >= OLDER_COUNTED else ""
        return f"{prefix}{self.scored:,} of {self.count:,}"

    @property
    def unscored_text(self) -> str:
        return f"{self.unscored:,}" + (" or more" if self.unscored >= OLDER_COUNTED else "")

    @property
    def older_text(self) -> str:
        """How many frames an older method scored, for the page ("100,000 or more")."""
        return f"{self.older:,}" + (" or more" if self.older >= OLDER_COUNTED else "")

    @property
    def missing(self) -> bool:
        return self.status.missing

    @property
    def problem(self) -> str | None:
        return self.status.problem


def summary(runtime: Runtime, collection_id: str, coll: Collection) -> Summary:
    index = runtime.index
    key = coll.key
    # asked before anything is counted: a job that ends between the counts and this question
    # would leave a page with a partial count and no polling (its scan-finished event may have
    # gone before the page listened); asked first, a job not seen running ended before the counts
    busy = bool(m.active_jobs(runtime, "scan") or m.active_jobs(runtime, "metrics"))
    count = index.count(key)
    status = coll.folder_status()
    # a missing folder's frames cannot be shown: no first/last frame (and so no thumbnail)
    first = index.first(key) if count and not status.missing else None
    last = index.last(key) if count and not status.missing else None
    config = runtime.config.collections.get(collection_id)
    camera = (
        config.camera
        if config
        else (collection_id if collection_id in runtime.config.cameras else None)
    )
    return Summary(
        collection_id, coll.name, key, str(coll.collection_dir), m.zone_name(coll), count,
        first, last, camera, config is not None, status, index.count_unscored(key, OLDER_COUNTED),
        index.count_old_scores(key, quality.VERSION, OLDER_COUNTED), busy,
    )  # fmt: skip
