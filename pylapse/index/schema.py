"""The frame index's tables, as numbered schema steps for :func:`pylapse.db.migrate`."""

from __future__ import annotations

__all__ = ["COMPONENT", "SCHEMA", "SKY_COLUMNS"]

COMPONENT = "index"

# The sky metrics columns of schema step 8 (issue 18), in their order there.
SKY_COLUMNS = (
    *(f"sky_{c}_{stat}" for stat in ("mean", "median", "std", "min", "max") for c in "rgb"),
    "centre_r",
    "centre_g",
    "centre_b",
    "exposure_time",
    "f_number",
    "iso",
)

# Append-only: a shipped step is never edited; a schema change is a new step.
SCHEMA = [
    """
    CREATE TABLE index_collections (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,       -- collection id; a camera's frames use the camera id
        root TEXT,                      -- folder of the last scan
        zone TEXT,                      -- zone names without an offset were read in
        scanned_at REAL                 -- UTC seconds of the last completed scan
    );
    CREATE TABLE scanned_dirs (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL,
        parent_id INTEGER,              -- NULL for the root (or a folder not yet linked)
        path TEXT NOT NULL,             -- absolute
        mtime_ns INTEGER,               -- as of the last listing; NULL = list it next time
        UNIQUE (collection_id, path)
    );
    CREATE INDEX scanned_dirs_parent ON scanned_dirs (parent_id);
    CREATE TABLE frames (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL,
        dir_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        utc REAL NOT NULL,              -- seconds since the epoch
        utc_offset INTEGER NOT NULL,    -- seconds east of UTC in force when taken
        source TEXT NOT NULL,           -- filename, pattern, exif, mtime or capture
        inode INTEGER,                  -- from the folder listing: a replaced file changes it
        size INTEGER,
        mtime REAL,
        width INTEGER,
        height INTEGER,
        luma REAL,                      -- mean luma 0-255
        sharpness REAL,
        contrast REAL,
        noise REAL
    );
    CREATE UNIQUE INDEX frames_dir_name ON frames (dir_id, name);
    CREATE INDEX frames_time ON frames (collection_id, utc);
    CREATE TABLE day_counts (
        collection_id INTEGER NOT NULL,
        day INTEGER NOT NULL,           -- floor((utc + utc_offset) / 86400)
        utc_offset INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (collection_id, day, utc_offset)
    ) WITHOUT ROWID;
    """,
    # Where each frame's time came from (issue 14). Rows from before stay NULL: "unknown".
    """
    ALTER TABLE frames ADD COLUMN time_source TEXT;    -- name, folder+name, exif, xmp, ...
    ALTER TABLE frames ADD COLUMN offset_source TEXT;  -- name, exif-offset, ..., neighbours, zone
    ALTER TABLE frames ADD COLUMN time_status TEXT;    -- certain, inferred, assumed, conflict, ...
    ALTER TABLE frames ADD COLUMN time_reason TEXT;    -- short, for the user
    ALTER TABLE index_collections ADD COLUMN zones TEXT;  -- zone + timeline frames were read in
    """,
    # The extensions the last scan took: another set re-lists every folder, unchanged ones too.
    """
    ALTER TABLE index_collections ADD COLUMN extensions TEXT;  -- sorted, comma-joined
    """,
    # Small partial indexes: frames whose offset the index decided (is there any to re-resolve
    # after a scan?) and frames whose time is flagged (the flagged filter), each a few rows of a
    # collection instead of a walk over all of them. Queries name the values literally, which
    # is what lets SQLite use a partial index.
    """
    CREATE INDEX frames_dependent ON frames (collection_id)
        WHERE offset_source IN ('neighbours', 'zone');
    CREATE INDEX frames_flagged ON frames (collection_id, utc)
        WHERE time_status IN ('conflict', 'implausible');
    """,
    # A change stamp per collection (issue 15): bumped in the same transaction as every write
    # that adds, removes or re-times one of its frames, by whichever connection or process
    # writes, so a cache of a collection's times (FrameIndex.utc_times) knows when it is stale
    # by reading one row. Triggers, so that no write path can forget it. Frames are never added
    # without their day count rising in the same transaction, so additions bump the stamp
    # through day_counts (a few rows a batch: a per-frame insert trigger made a cold scan
    # ~1.2 us a frame slower, a third of its time); removals and re-timings bump it per frame.
    # Rows are never deleted (a stamp only grows, also if a collection id is handed out again).
    """
    CREATE TABLE frame_stamps (
        collection_id INTEGER PRIMARY KEY,
        stamp INTEGER NOT NULL
    );
    CREATE TRIGGER day_counts_stamp_insert AFTER INSERT ON day_counts BEGIN
        INSERT INTO frame_stamps (collection_id, stamp) VALUES (NEW.collection_id, 1)
            ON CONFLICT (collection_id) DO UPDATE SET stamp = stamp + 1;
    END;
    CREATE TRIGGER day_counts_stamp_update AFTER UPDATE OF n ON day_counts BEGIN
        INSERT INTO frame_stamps (collection_id, stamp) VALUES (NEW.collection_id, 1)
            ON CONFLICT (collection_id) DO UPDATE SET stamp = stamp + 1;
    END;
    CREATE TRIGGER frames_stamp_delete AFTER DELETE ON frames BEGIN
        INSERT INTO frame_stamps (collection_id, stamp) VALUES (OLD.collection_id, 1)
            ON CONFLICT (collection_id) DO UPDATE SET stamp = stamp + 1;
    END;
    CREATE TRIGGER frames_stamp_update AFTER UPDATE OF utc, collection_id ON frames BEGIN
        INSERT INTO frame_stamps (collection_id, stamp) VALUES (OLD.collection_id, 1)
            ON CONFLICT (collection_id) DO UPDATE SET stamp = stamp + 1;
        INSERT INTO frame_stamps (collection_id, stamp) VALUES (NEW.collection_id, 1)
            ON CONFLICT (collection_id) DO UPDATE SET stamp = stamp + 1;
    END;
    """,
    # Per-frame quality scores (issue 17, pylapse.imaging.quality): share of clipped pixels at
    # each end of the histogram, a 64-bit dHash (stored as a signed 64-bit integer, which is what
    # SQLite holds) and its Hamming distance to the previous frame of the same camera or folder.
    """
    ALTER TABLE frames ADD COLUMN clip_high REAL;       -- share 0-1 of pixels >= 250
    ALTER TABLE frames ADD COLUMN clip_low REAL;        -- share 0-1 of pixels <= 5
    ALTER TABLE frames ADD COLUMN dhash INTEGER;        -- 64-bit dHash, two's complement
    ALTER TABLE frames ADD COLUMN hash_distance INTEGER; -- bits differing from the previous frame
    """,
    # Sky metrics per frame (issue 18): mean, median, standard deviation, min and max of each
    # colour channel 0-255 over the camera's or collection's metrics region (a band of rows;
    # default the whole frame), the colour at the region's centre, and the EXIF exposure time
    # (seconds), f-number and ISO when the file has them. NULL: not measured yet (the metrics
    # job fills them: sky_r_mean IS NULL marks a frame to measure) or, for the EXIF columns,
    # not in the file. The partial index holds the frames the metrics job still has to
    # decode (few once an archive is scored), so counting them stays cheap at millions of rows;
    # queries spell its condition literally, which is what lets SQLite use it.
    """
    ALTER TABLE frames ADD COLUMN sky_r_mean REAL;
    ALTER TABLE frames ADD COLUMN sky_g_mean REAL;
    ALTER TABLE frames ADD COLUMN sky_b_mean REAL;
    ALTER TABLE frames ADD COLUMN sky_r_median REAL;
    ALTER TABLE frames ADD COLUMN sky_g_median REAL;
    ALTER TABLE frames ADD COLUMN sky_b_median REAL;
    ALTER TABLE frames ADD COLUMN sky_r_std REAL;
    ALTER TABLE frames ADD COLUMN sky_g_std REAL;
    ALTER TABLE frames ADD COLUMN sky_b_std REAL;
    ALTER TABLE frames ADD COLUMN sky_r_min REAL;
    ALTER TABLE frames ADD COLUMN sky_g_min REAL;
    ALTER TABLE frames ADD COLUMN sky_b_min REAL;
    ALTER TABLE frames ADD COLUMN sky_r_max REAL;
    ALTER TABLE frames ADD COLUMN sky_g_max REAL;
    ALTER TABLE frames ADD COLUMN sky_b_max REAL;
    ALTER TABLE frames ADD COLUMN centre_r REAL;
    ALTER TABLE frames ADD COLUMN centre_g REAL;
    ALTER TABLE frames ADD COLUMN centre_b REAL;
    ALTER TABLE frames ADD COLUMN exposure_time REAL;
    ALTER TABLE frames ADD COLUMN f_number REAL;
    ALTER TABLE frames ADD COLUMN iso REAL;
    CREATE INDEX frames_unmeasured ON frames (collection_id)
        WHERE dhash IS NULL OR sky_r_mean IS NULL;
    """,
    # A dead camera's frames (issue 17): each frame's verdict by pylapse.selection.dead_camera's
    # rule, written with its scores (pylapse.index.deadflags): 'frozen', 'blank' or NULL (alive
    # or not measured). The partial index holds only the dead frames, which is what a default
    # selection reads to leave them out (queries spell "dead IS NOT NULL" literally). The
    # collections indexed before are listed in dead_unchecked: their scored frames are decided
    # once, at the index's next open, and each leaves the list with its last verdicts.
    # dead_stamps: bumped (by a trigger, whoever writes) whenever a verdict changes, so a cache
    # of a collection's dead frames knows when it is stale, with frame_stamps (step 5).
    """
    ALTER TABLE frames ADD COLUMN dead TEXT;
    CREATE INDEX frames_dead ON frames (collection_id, utc) WHERE dead IS NOT NULL;
    CREATE TABLE dead_unchecked (collection_id INTEGER PRIMARY KEY);
    INSERT INTO dead_unchecked (collection_id) SELECT id FROM index_collections;
    CREATE TABLE dead_stamps (
        collection_id INTEGER PRIMARY KEY,
        stamp INTEGER NOT NULL
    );
    CREATE TRIGGER frames_dead_stamp AFTER UPDATE OF dead ON frames BEGIN
        INSERT INTO dead_stamps (collection_id, stamp) VALUES (NEW.collection_id, 1)
            ON CONFLICT (collection_id) DO UPDATE SET stamp = stamp + 1;
    END;
    """,
    # Frames far darker than the camera's at the same local time the day before are dead too
    # (dead = 'dark', pylapse.index.darkflags): the collections indexed before are decided
    # again at the index's next open, as step 8 listed them.
    """
    INSERT INTO dead_unchecked (collection_id)
        SELECT id FROM index_collections
        WHERE id NOT IN (SELECT collection_id FROM dead_unchecked);
    """,
    # Which method scored each frame (pylapse.imaging.quality.VERSION): NULL is the method
    # before version 1 (a copy of 256-511 px, whose sharpness and noise are on another scale),
    # so frames scored before this step count as old. Thresholds and comparisons of scores
    # mean something only within one version; `pylapse metrics --rescore-old` scores the old
    # ones again. The partial index holds only scored frames (a scan inserts none into it):
    # counting a collection's frames of an older version is a range of it ("score_version IS
    # NULL", then "score_version < ?"), nothing once an archive is rescored.
    """
    ALTER TABLE frames ADD COLUMN score_version INTEGER;
    CREATE INDEX frames_score_version ON frames (collection_id, score_version)
        WHERE dhash IS NOT NULL;
    """,
    # Each frame's grain (pylapse.imaging.quality): 64 parity bits of its grey copy's cells,
    # which tell a live still scene from a picture served again (the dead-camera rule of
    # pylapse.selection.dead_camera). NULL: scored before it; such frames keep the luma rule.
    # Stored as a signed 64-bit integer, as dhash is.
    "ALTER TABLE frames ADD COLUMN grain INTEGER",
]
