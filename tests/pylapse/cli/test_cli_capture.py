"""``pylapse capture``: where it finds the config, ``--check``, and what it says at start-up."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from pylapse import timeutil
from pylapse.cli import CommandError, find_config, main

INTERVAL = {"id": "s", "type": "interval", "interval_amount": 1, "interval_unit": "seconds"}
GOOD = {"name": "Yard", "type": "synthetic", "output_dir": "yard", "schedules": [INTERVAL]}
BAD = {"_why": "new URL pending", "url": "ftp://shed.local/x", "output_dir": "shed"}


def write(folder: Path, cameras: dict, name: str = "capture_config.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    raw = {"cameras": cameras, "data_dir": "data", "min_free_mb": 0}
    path.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def no_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYLAPSE_CAPTURE_CONFIG", raising=False)
    monkeypatch.delenv("PYLAPSE_CONFIG", raising=False)


# --- finding the config -------------------------------------------------------------------------


def test_the_0_2_variable_comes_first(tmp_path, monkeypatch, no_variables) -> None:
    old, new = write(tmp_path / "old", {}), write(tmp_path / "new", {})
    monkeypatch.setenv("PYLAPSE_CAPTURE_CONFIG", str(old))
    monkeypatch.setenv("PYLAPSE_CONFIG", str(new))
    assert find_config(tmp_path / "script") == old
    monkeypatch.delenv("PYLAPSE_CAPTURE_CONFIG")
    assert find_config(tmp_path / "script") == new


def test_beside_the_script_before_the_current_folder(tmp_path, monkeypatch, no_variables) -> None:
    script, cwd = tmp_path / "script", tmp_path / "cwd"
    in_cwd = write(cwd, {})
    monkeypatch.chdir(cwd)
    assert find_config(script).resolve() == in_cwd.resolve()  # nothing beside the script yet
    beside = write(script, {})
    assert find_config(script) == beside


def test_no_config_anywhere_names_every_place_looked(tmp_path, monkeypatch, no_variables) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError) as caught:
        find_config(tmp_path / "script")
    message = str(caught.value)
    for place in (
        "$PYLAPSE_CAPTURE_CONFIG (not set)",
        "$PYLAPSE_CONFIG (not set)",
        f"{tmp_path / 'script' / 'capture_config.json'} (beside the script: none)",
        f"{Path.cwd() / 'capture_config.json'} (the current folder: none)",
    ):
        assert place in message


def test_a_variable_naming_a_missing_file_never_falls_back(
    tmp_path, monkeypatch, no_variables
) -> None:
    write(tmp_path, {})  # a config in the current folder must not be used instead
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYLAPSE_CAPTURE_CONFIG", str(tmp_path / "gone.json"))
    with pytest.raises(CommandError, match=r"gone\.json: no such config file .*CAPTURE_CONFIG"):
        find_config()


# --- --check --------------------------------------------------------------------------------------


def test_check_of_a_good_config_exits_0(tmp_path, capsys) -> None:
    path = write(tmp_path, {"yard": GOOD})
    assert main(["capture", "--check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 camera(s) would capture: yard" in out and out.rstrip().endswith("ok")


def test_check_names_every_bad_entry_and_exits_1(tmp_path, capsys) -> None:
    path = write(tmp_path, {"yard": GOOD, "shed": BAD, "gate": {**GOOD, "qualty": 3}})
    assert main(["capture", "--check", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "camera shed is invalid and would NOT be captured" in out
    assert "cameras.shed.url: 'ftp://shed.local/x' must start with http:// or https://" in out
    assert "cameras.gate.qualty: unknown key 'qualty'; did you mean 'quality'?" in out
    assert "would capture: yard" in out and "2 invalid camera entries" in out


def test_check_of_an_unusable_file_exits_2_with_the_error(tmp_path, capsys) -> None:
    path = write(tmp_path, {"yard": GOOD})
    path.write_text(path.read_text().replace('"min_free_mb": 0', '"min_free_mb": -1'))
    assert main(["capture", "--check", "--config", str(path)]) == 2
    assert "min_free_mb: -1 is out of range" in capsys.readouterr().err


# --- the start-up log -----------------------------------------------------------------------------


def _other_zone() -> str:
    """A zone whose clock differs from this machine's now (whatever the machine's is)."""
    local = timeutil.now(timeutil.zone(None)).utcoffset()
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # +14 and -11: one differs
        if timeutil.now(timeutil.zone(name)).utcoffset() != local:
            return name
    raise AssertionError("unreachable: the two zones are 25 hours apart")


def test_start_up_says_which_cameras_fire_in_their_own_zone_and_which_are_bad(
    tmp_path, caplog
) -> None:
    zone = _other_zone()
    same = timeutil.local_zone_name()
    path = write(
        tmp_path,
        {
            "far": {**GOOD, "output_dir": "far", "timezone": zone},
            "here": {**GOOD, "output_dir": "here", "timezone": same},
            "shed": BAD,
        },
    )
    caplog.set_level(logging.INFO, logger="pylapse")
    assert main(["capture", "--config", str(path), "--duration", "1.5"]) == 0
    lines = [r.getMessage() for r in caplog.records]
    assert (
        f"camera far fires at its own time zone {zone} (pyLapse 0.2 used this machine's zone "
        f"{same})"
    ) in lines
    assert not [line for line in lines if line.startswith("camera here fires")]
    bad = [r for r in caplog.records if r.getMessage().startswith("camera shed is NOT captured")]
    assert bad and bad[0].levelno == logging.ERROR and "cameras.shed.url" in bad[0].getMessage()
    # and the good cameras did capture, each in its own zone
    far = sorted((tmp_path / "far").rglob("*.jpg"))
    assert far and sorted((tmp_path / "here").rglob("*.jpg"))
    offset = timeutil.now(timeutil.zone(zone)).utcoffset() or timedelta(0)
    assert timeutil.offset_text(int(offset.total_seconds())) in far[0].name
