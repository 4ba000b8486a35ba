"""Typed request parameters shared by the routers: ids and offsets that fit the index.

Each carries an example (the demo camera's ids, the first frame and job), which the API docs
show and the spec-driven tests start from.

Frame and job ids, and row offsets, go into SQLite, whose integers are 64-bit signed: a number
from 2**63 on makes the database driver raise ``OverflowError`` (a 500) instead of finding
nothing. Declared here with their range, such a number is a 422 that names the parameter and
the range, and the OpenAPI spec says so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

__all__ = ["MAX_ID", "CameraId", "CollectionId", "FrameId", "JobId", "Offset"]

MAX_ID = 2**63 - 1  # the largest SQLite integer

FrameId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="a frame id from the index", examples=[1])
]
JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="a job id", examples=[1])]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip", examples=[0])]
CameraId = Annotated[str, Path(description="a camera id from the config", examples=["demo"])]
CollectionId = Annotated[
    str, Path(description="a collection id (a camera's id for its own frames)", examples=["demo"])
]
