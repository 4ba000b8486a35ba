"""Fixtures of the picture tests (see picture_support)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pylapse.collection import Collection
from tests.conftest import shared_testdata
from tests.pylapse.pictures.picture_support import DAY, MISSING, Generated, write_day


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Generated]:
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "frames"
    by_slot = write_day(root, DAY, MISSING, offset=3)  # 3 s late: the grid still holds them
    collection = Collection("gen", None, root, timezone="UTC")
    yield Generated(root, collection, by_slot)
    collection.close()


@pytest.fixture
def real_frames() -> list[Path]:
    frames = sorted((shared_testdata("sequence-real") / "frames").glob("*.jpg"))
    assert len(frames) == 80
    return frames
