"""Fixtures shared by the whole suite. Area-specific fixtures live next to their tests."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"


def shared_testdata(name: str) -> Path:
    """A folder of ../shared/testdata, or skip the test saying why."""
    folder = SHARED_TESTDATA / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (shared test data lives beside the repo in ../shared)")
    return folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Real-browser tests run last: they need every layer, and Playwright's sync API keeps an
    event loop running in the main thread while its browser is open."""
    items.sort(key=lambda item: "/tests/browser/" in str(item.path))


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def repo() -> Path:
    return REPO
