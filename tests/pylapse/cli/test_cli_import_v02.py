"""``pylapse import-v02 PATH``: pyLapse 0.2's dashboard data into the config and job history."""

from __future__ import annotations

import json
from pathlib import Path

from pylapse.cli import main
from pylapse.config.file import load_config
from pylapse.tasks.import_v02 import MARKER_FILE
from tests.pylapse.tasks.test_import_v02 import jobs_of, project, write_v02

__all__ = ["project"]  # the fixture, shared with the use case's tests


def test_import_prints_the_report_and_saves(project: Path, capsys) -> None:
    config_path = project / "capture_config.json"
    code = main(["import-v02", str(project), "--config", str(config_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"pyLapse 0.2 data in {project}: 3 collections (1 added, ")
    assert "  added collection 'Garden' (0.2 id 9f8e7d6c) as 'garden'\n" in out
    assert "  skipped export preset 'Off' (0.2 id 55ee66ff): every schedule" in out
    assert f"saved {config_path}" in out
    assert "garden" in load_config(config_path).collections
    assert len(jobs_of(project, "export")) == 2
    # the files beside the config are done: the next start does not import them again
    assert (project / "data" / MARKER_FILE).is_file()

    assert main(["import-v02", str(project), "--config", str(config_path)]) == 0
    again = capsys.readouterr().out
    assert "(1 added" not in again and "2 export runs (2 already there)" in again
    assert "saved " not in again
    assert len(jobs_of(project, "export")) == 2


def test_dry_run_changes_nothing(project: Path, capsys) -> None:
    config_path = project / "capture_config.json"
    before = config_path.read_text()
    code = main(["import-v02", str(project / "collections.json"), "--config", str(config_path),
                 "--dry-run"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "(dry run, nothing written)" in out and "would add collection 'Garden'" in out
    assert "export run" not in out  # only the file named was read
    assert config_path.read_text() == before
    assert not (project / "data").exists()


def test_files_elsewhere_are_read_relative_to_their_folder(tmp_path: Path, capsys) -> None:
    (tmp_path / "new" / "timelapse" / "garden").mkdir(parents=True)
    config_path = tmp_path / "new" / "capture_config.json"
    config_path.write_text(json.dumps({"storage_roots": ["timelapse"]}))
    old = tmp_path / "old-pylapse"
    old.mkdir()
    write_v02(old, tmp_path / "new" / "timelapse")
    assert main(["import-v02", str(old), "--config", str(config_path)]) == 0
    assert f"as 'porch': {old / 'timelapse' / 'porch'} is not a folder here (yet)" in (
        capsys.readouterr().out
    )
    config = load_config(config_path)
    # 0.2's relative "timelapse/porch" was relative to its own folder, which has no frames here
    assert config.collections["porch"].path == str(old / "timelapse" / "porch")
    assert config.collections["garden"].path == "timelapse/garden"
    assert not (tmp_path / "new" / "data" / MARKER_FILE).exists()  # not the files beside it


def test_a_broken_file_is_one_line_and_exit_1(project: Path, capsys) -> None:
    config_path = project / "capture_config.json"
    before = config_path.read_text()
    (project / "collections.json").write_text('{"porch": {"name": "Porch",}}')
    code = main(["import-v02", str(project), "--config", str(config_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"pylapse import-v02: {project / 'collections.json'}: line 1, column ")
    assert config_path.read_text() == before


def test_a_path_with_no_0_2_files_says_what_it_looked_for(tmp_path: Path, capsys) -> None:
    config_path = tmp_path / "capture_config.json"
    config_path.write_text("{}")
    assert main(["import-v02", str(tmp_path / "nothing"), "--config", str(config_path)]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["import-v02", str(tmp_path / "empty"), "--config", str(config_path)]) == 1
    assert "holds neither collections.json nor history.json" in capsys.readouterr().err
