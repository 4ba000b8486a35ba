"""Export folder locks: held while an export runs, gone afterwards; ones left by a killed
export are swept; a live export's lock is never taken away."""

from __future__ import annotations

import pytest

from pylapse.export.staging import LOCK_SUFFIX, ExportError, Staging, sweep_locks


def _locks(parent):  # type: ignore[no-untyped-def]
    return sorted(p.name for p in parent.iterdir() if p.name.endswith(LOCK_SUFFIX))


def test_an_export_leaves_no_lock_file(tmp_path) -> None:
    out = tmp_path / "exports" / "quarter"
    with Staging(out):
        assert _locks(out.parent) == [f".quarter{LOCK_SUFFIX}"]
    assert _locks(out.parent) == []


def test_a_running_export_keeps_its_lock_and_refuses_a_second(tmp_path) -> None:
    out = tmp_path / "quarter"
    with Staging(out):
        with pytest.raises(ExportError, match="another export is writing"):
            Staging(out).__enter__()
        assert sweep_locks(tmp_path) == 0  # held: not swept
        assert _locks(tmp_path) == [f".quarter{LOCK_SUFFIX}"]
    assert _locks(tmp_path) == []


def test_stale_locks_are_swept_by_the_next_export(tmp_path) -> None:
    # left by exports that were killed (or by an older pyLapse, which kept them)
    for name in ("old-preset", "quarter"):
        (tmp_path / f".{name}{LOCK_SUFFIX}").write_text("")
    (tmp_path / "not-a-lock.txt").write_text("mine")
    other = tmp_path / "elsewhere"
    other.mkdir()
    (tmp_path / f".link{LOCK_SUFFIX}").symlink_to(other / "target")
    with Staging(tmp_path / "daily"):
        assert _locks(tmp_path) == [f".daily{LOCK_SUFFIX}", f".link{LOCK_SUFFIX}"]
    assert _locks(tmp_path) == [f".link{LOCK_SUFFIX}"]  # a symlink is not followed or removed
    assert not (other / "target").exists()
    assert (tmp_path / "not-a-lock.txt").read_text() == "mine"
