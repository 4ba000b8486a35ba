"""Hand edits of the config file while pyLapse runs: picked up, never overwritten, never lost.

A real Runtime on a real file; edits are made the way an editor makes them (rewrite in place or
write-and-rename), then the running app reads or saves.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pylapse.config import poll
from pylapse.config.backups import BACKUPS_KEPT, backups
from pylapse.config.base import ConfigConflict
from pylapse.config.file import FileStamp, load_config, save_config
from pylapse.config.watch import ConfigStatus
from pylapse.runtime import Runtime

RAW: dict[str, Any] = {
    "_comment": "a hand-written config",
    "data_dir": "data",
    "storage_roots": ["timelapse"],
    "min_free_mb": 0,
    "cameras": {
        "porch": {
            "name": "Porch",
            "type": "synthetic",
            "output_dir": "timelapse/porch",
            "timezone": "Europe/Berlin",
            "schedules": [{"id": "noon", "hour": 12, "minute": 0}],
        }
    },
}


def write(path: Path, raw: dict[str, Any]) -> None:
    """An editor's save: the new text in place (mtime and size change, same inode)."""
    path.write_text(json.dumps(raw, indent=2), encoding="utf-8")


def edit(path: Path, change: Any) -> dict[str, Any]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    change(raw)
    write(path, raw)
    return raw


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "capture_config.json"
    write(path, RAW)
    return path


@pytest.fixture
def runtime(config_path: Path):
    rt = Runtime(load_config(config_path), config_path=config_path, jobs=False)
    yield rt
    rt.stop()


def rename(raw: dict[str, Any], name: str) -> None:
    raw["cameras"]["porch"]["name"] = name


def test_a_valid_hand_edit_takes_effect_without_a_restart(runtime, config_path) -> None:
    runtime.start()
    before = {r.schedule_id for r in runtime.scheduler.next_runs(5)}
    assert before == {"noon"}

    def change(raw: dict[str, Any]) -> None:
        raw["cameras"]["porch"]["schedules"] = [{"id": "dawn", "hour": 6, "minute": 0}]

    edit(config_path, change)
    assert [s.id for s in runtime.config.cameras["porch"].schedules] == ["dawn"]
    assert {r.schedule_id for r in runtime.scheduler.next_runs(5)} == {"dawn"}
    notice = runtime.config_notice
    assert notice is not None and notice.status is ConfigStatus.RELOADED
    assert str(config_path) in notice.message and "reloaded" in notice.message


def test_a_save_from_a_stale_generation_is_refused_and_writes_nothing(runtime, config_path) -> None:
    config, token = runtime.config_snapshot()
    edit(config_path, lambda raw: rename(raw, "Edited by hand"))
    text = config_path.read_bytes()
    stale = config.model_copy(deep=True)
    stale.cameras["porch"].description = "from a form loaded before the edit"
    with pytest.raises(ConfigConflict, match=r"changed on disk at \d\d:\d\d; reload the page"):
        runtime.apply_config(stale, expect=token)
    assert config_path.read_bytes() == text
    assert backups(config_path) == []
    assert runtime.config.cameras["porch"].name == "Edited by hand"


def test_a_save_based_on_the_fresh_config_keeps_the_hand_edit(runtime, config_path) -> None:
    runtime.config_snapshot()
    edit(config_path, lambda raw: rename(raw, "Edited by hand"))
    fresh, token = runtime.config_snapshot()
    changed = fresh.model_copy(deep=True)
    changed.cameras["porch"].enabled = False
    runtime.apply_config(changed, expect=token)
    saved = load_config(config_path)
    assert saved.cameras["porch"].name == "Edited by hand"
    assert saved.cameras["porch"].enabled is False


def test_the_apps_own_saves_keep_the_token(runtime) -> None:
    config, token = runtime.config_snapshot()
    first = config.model_copy(deep=True)
    first.cameras["porch"].enabled = False
    runtime.apply_config(first, expect=token)
    second = runtime.config.model_copy(deep=True)
    second.cameras["porch"].enabled = True
    runtime.apply_config(second, expect=token)  # a second toggle from the same page works
    assert load_config(runtime.config_path).cameras["porch"].enabled is True


def test_touching_the_file_is_not_an_edit(runtime, config_path) -> None:
    _, token = runtime.config_snapshot()
    later = time.time() + 5
    os.utime(config_path, (later, later))
    assert runtime.config_snapshot()[1] == token
    assert runtime.config_notice is None


def test_an_invalid_hand_edit_is_reported_and_never_overwritten(runtime, config_path) -> None:
    good = runtime.config
    broken = config_path.read_text(encoding="utf-8").replace('"hour": 12', '"hour": 12,,')
    config_path.write_text(broken, encoding="utf-8")
    notice = runtime.config_notice
    assert notice is not None and notice.status is ConfigStatus.INVALID
    assert str(config_path) in notice.message and "line" in notice.message
    assert "column" in notice.message
    assert runtime.config is good  # still running on the last valid config
    change = good.model_copy(deep=True)
    change.cameras["porch"].enabled = False
    with pytest.raises(ConfigConflict, match="has an error"):
        runtime.apply_config(change)
    assert config_path.read_text(encoding="utf-8") == broken
    fixed = broken.replace('"hour": 12,,', '"hour": 13')
    config_path.write_text(fixed, encoding="utf-8")
    assert runtime.config.cameras["porch"].schedules[0].hour == 13
    assert runtime.config_notice.status is ConfigStatus.RELOADED


def test_a_hand_edit_breaking_one_camera_sets_it_aside_and_names_the_field(
    runtime, config_path
) -> None:
    def break_porch_add_yard(raw: dict[str, Any]) -> None:
        raw["cameras"]["porch"]["timezone"] = "Mars/Base"
        raw["cameras"]["yard"] = {**RAW["cameras"]["porch"], "name": "Yard"}

    edited = edit(config_path, break_porch_add_yard)
    config = runtime.config
    assert runtime.config_notice.status is ConfigStatus.RELOADED  # the rest is in effect
    assert list(config.cameras) == ["yard"]
    problem = config.invalid_cameras["porch"].message
    assert "cameras.porch.timezone" in problem and "Mars/Base" in problem
    # a save from the app (here: yard renamed) writes the broken entry back as it was
    change = config.model_copy(deep=True)
    change.cameras["yard"].name = "Back yard"
    runtime.apply_config(change)
    saved = json.loads(config_path.read_text(encoding="utf-8"))
    assert saved["cameras"]["porch"] == edited["cameras"]["porch"]
    assert list(saved["cameras"]) == ["porch", "yard"]
    assert saved["cameras"]["yard"]["name"] == "Back yard"
    assert runtime.config.invalid_cameras["porch"].raw == edited["cameras"]["porch"]


def test_a_running_capture_logs_a_camera_broken_by_hand_once(
    runtime, config_path, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(poll, "CONFIG_POLL_SECONDS", 0.05)
    caplog.set_level(logging.INFO, logger="pylapse.capture")
    runtime.start()

    def broken() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "camera porch is NOT captured" in r.getMessage()]

    edit(config_path, lambda raw: raw["cameras"]["porch"].update(qualty=5))
    deadline = time.monotonic() + 10
    while not broken() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.levelno for r in broken()] == [logging.ERROR]
    assert "cameras.porch.qualty" in broken()[0].getMessage()
    assert runtime.scheduler.next_runs(5) == []  # its schedule is off
    edit(config_path, lambda raw: rename(raw, "Still broken"))  # another edit: said only once
    runtime.reload_config()
    assert len(broken()) == 1


def test_moving_the_data_folder_by_hand_asks_for_a_restart(runtime, config_path) -> None:
    edit(config_path, lambda raw: raw.update(data_dir="elsewhere"))
    notice = runtime.config_notice
    assert notice.status is ConfigStatus.INVALID and "restart" in notice.message
    assert runtime.config.data_dir == "data"


def test_headless_capture_picks_up_an_edit_nobody_reads(runtime, config_path, monkeypatch) -> None:
    monkeypatch.setattr(poll, "CONFIG_POLL_SECONDS", 0.05)
    runtime.start()
    edit(config_path, lambda raw: rename(raw, "Polled"))
    deadline = time.monotonic() + 10
    while runtime.scheduler.camera("porch").name != "Polled" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runtime.scheduler.camera("porch").name == "Polled"


def test_set_password_while_the_app_runs_survives_the_next_save(runtime, config_path) -> None:
    _, token = runtime.config_snapshot()  # the dashboard page was loaded
    result = subprocess.run(
        [sys.executable, "-m", "pylapse.cli", "set-password", "--config", str(config_path)],
        input="correct horse battery\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stale = runtime.config  # the next read sees the new file
    assert stale.web.password_hash
    toggled = stale.model_copy(deep=True)
    toggled.cameras["porch"].enabled = False
    runtime.apply_config(toggled)  # a save with no page token (e.g. the JSON API)
    assert load_config(config_path).web.password_hash == stale.web.password_hash
    with pytest.raises(ConfigConflict):  # and the page loaded before it must reload first
        runtime.apply_config(toggled, expect=token)


def test_concurrent_reads_during_an_edit_apply_it_once(runtime, config_path) -> None:
    runtime.start()
    edit(config_path, lambda raw: rename(raw, "Once"))
    reloads = []
    runtime.scheduler.reload = lambda config, _orig=runtime.scheduler.reload: (  # type: ignore
        reloads.append(config.cameras["porch"].name),
        _orig(config),
    )
    threads = [threading.Thread(target=lambda: runtime.config) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reloads == ["Once"]


# -- the file: links, modes, owners, backups ------------------------------------------------------


def test_a_symlinked_config_stays_a_link(tmp_path) -> None:
    real_dir = tmp_path / "dotfiles"
    real_dir.mkdir()
    real = real_dir / "pylapse.json"
    write(real, RAW)
    link = tmp_path / "capture_config.json"
    link.symlink_to(real)
    config = load_config(link)
    data_before = config.data_path
    for name in ("first", "second"):
        config = load_config(link)
        config.cameras["porch"].description = name
        save_config(config)
        assert link.is_symlink() and link.resolve() == real
        assert load_config(link).cameras["porch"].description == name
    assert load_config(link).data_path == data_before  # the data folder did not move
    assert all(b.parent == real_dir for b in backups(link))


def test_a_save_keeps_mode_and_owner_and_backups_are_private(config_path) -> None:
    config_path.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(config_path, 1234, 1234)
    config = load_config(config_path)
    config.cameras["porch"].description = "saved"
    save_config(config)
    st = config_path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (1234, 1234)
    [bak] = backups(config_path)
    assert stat.S_IMODE(bak.stat().st_mode) == 0o600


def test_a_new_config_file_is_private(tmp_path, config_path) -> None:
    config = load_config(config_path)
    target = tmp_path / "new" / "capture_config.json"
    save_config(config, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_backup_chain_keeps_the_last_five_versions(config_path) -> None:
    texts = []
    for n in range(BACKUPS_KEPT + 3):
        texts.append(config_path.read_text(encoding="utf-8"))
        config = load_config(config_path)
        config.cameras["porch"].description = f"version {n}"
        save_config(config)
    kept = backups(config_path)
    assert len(kept) == BACKUPS_KEPT
    assert [b.read_text(encoding="utf-8") for b in kept] == texts[-BACKUPS_KEPT:]
    for b in kept:  # capture_config.json.2026-12-07T14-02-03Z.bak: UTC, sortable
        assert b.name.startswith("capture_config.json.20") and b.name.endswith("Z.bak")


def test_save_config_with_an_expected_stamp_refuses_a_changed_file(config_path) -> None:
    config = load_config(config_path)
    stamp = FileStamp.of(config_path)
    edit(config_path, lambda raw: rename(raw, "meanwhile"))
    with pytest.raises(ConfigConflict, match="changed on disk"):
        save_config(config, expect=stamp)
    assert load_config(config_path).cameras["porch"].name == "meanwhile"


def test_a_deeply_nested_file_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "capture_config.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(Exception, match=r"capture_config\.json") as info:
        load_config(path)
    assert type(info.value).__name__ == "ConfigError"
