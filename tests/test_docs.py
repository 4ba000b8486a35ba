"""docs/configuration.md documents every field of every config model (datasette's pattern)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from pylapse.cli import build_parser
from pylapse.config import models as config
from pylapse.config.cameras import CameraConfig, Schedule
from pylapse.config.capture import CaptureSettings
from pylapse.config.file import parse_config
from pylapse.config.notifications import NotificationConfig
from pylapse.config.retention import RetentionConfig

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
MODELS = [
    config.Config,
    CameraConfig,
    Schedule,
    config.CollectionConfig,
    config.ExportPreset,
    config.WebSettings,
    NotificationConfig,
    RetentionConfig,
    config.JobsConfig,
    config.RenderScheduleConfig,
    CaptureSettings,
]


def _section(model: type[BaseModel]) -> str:
    """The text under the heading that names ``model`` in backticks, up to the next heading."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(
        rf"^## [^\n]*\(`{model.__name__}`\)[^\n]*\n(?P<body>.*?)(?=^## |\Z)",
        text,
        flags=re.MULTILINE | re.DOTALL,
    )
    assert match, f"{DOC.name} has no '## ... (`{model.__name__}`)' section"
    return match["body"]


def _documented(body: str) -> set[str]:
    """Field names in the first column of the section's table rows."""
    return set(re.findall(r"^\| `([a-z_0-9]+)` \|", body, flags=re.MULTILINE))


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_every_field_is_documented(model: type[BaseModel]) -> None:
    missing = sorted(set(model.model_fields) - _documented(_section(model)))
    assert missing == [], f"add a row for each to the {model.__name__} table in {DOC}"


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_no_documented_field_is_stale(model: type[BaseModel]) -> None:
    stale = sorted(_documented(_section(model)) - set(model.model_fields))
    assert stale == [], f"{DOC} documents fields that {model.__name__} no longer has"


def test_every_documented_row_has_a_default_and_a_meaning() -> None:
    text = DOC.read_text(encoding="utf-8")
    for row in re.findall(r"^\| `[a-z_0-9]+` \|.*$", text, flags=re.MULTILINE):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) >= 2 and all(cells), f"empty cell in: {row}"


def test_the_checker_notices_a_missing_field() -> None:
    class Probe(BaseModel):
        host: str = "x"
        not_in_the_docs: int = 0

    body = _section(config.WebSettings)
    assert set(Probe.model_fields) - _documented(body) == {"not_in_the_docs"}


# --- scaling out: the example compose file and config (docs/scaling.md; never run here) --------

COMPOSE = DOC.parent / "docker-compose.scaling.yml"


def _services() -> dict[str, dict[str, Any]]:
    yaml = pytest.importorskip("yaml")  # PyYAML: a dev dependency
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))[
        "services"
    ]
    return services


def _pylapse_commands() -> dict[str, list[str]]:
    return {
        name: [str(word) for word in service["command"]]
        for name, service in _services().items()
        if service.get("command", [None])[0] == "pylapse"
    }


def test_the_compose_file_runs_the_services_the_docs_promise() -> None:
    services = _services()
    assert str(services["postgres"]["image"]).startswith("postgres:")
    assert str(services["redis"]["image"]).startswith("redis:")
    commands = _pylapse_commands()
    workers = sorted(n for n, c in commands.items() if c[1] == "worker")
    captures = [c for c in commands.values() if c[1] == "capture"]
    assert workers == ["worker-1", "worker-2"]
    assert len(captures) == 1 and "--host" in captures[0]
    for name in commands:  # each pylapse container waits for the index and the broker
        assert set(services[name]["depends_on"]) == {"postgres", "redis"}, name


def test_every_pylapse_command_in_the_compose_file_is_a_real_command_line() -> None:
    parser = build_parser()
    for name, command in _pylapse_commands().items():
        try:
            args = parser.parse_args(command[1:])
        except SystemExit:
            pytest.fail(f"{COMPOSE.name}: {name}: `{' '.join(command)}` is refused by pylapse")
        assert args.command == command[1]


def test_the_compose_file_mounts_the_config_its_commands_name() -> None:
    services = _services()
    for name, command in _pylapse_commands().items():
        config = command[command.index("--config") + 1]
        mounts = {m.split(":")[1]: m.split(":")[0] for m in services[name]["volumes"]}
        assert config in mounts, f"{name} reads {config}, which no volume provides"
        assert (COMPOSE.parent / mounts[config]).is_file(), mounts[config]


def test_the_example_scaling_config_is_valid() -> None:
    path = DOC.parent / "capture_config.scaling.json"
    loaded = parse_config(json.loads(path.read_text(encoding="utf-8")), path)
    assert loaded.jobs.backend == "celery"
    assert str(loaded.index_url).startswith("postgresql://")
    assert {c.capture_host for c in loaded.cameras.values()} == {"site-a", None}


def test_the_readme_scaling_commands_are_real_command_lines() -> None:
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scaling out", 1)[1].split("\n## ", 1)[0]
    lines = [
        line.split("#", 1)[0].split()
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
        for line in block.splitlines()
        if line.startswith("pylapse ")
    ]
    assert {words[1] for words in lines} >= {"worker", "capture"}
    parser = build_parser()
    for words in lines:
        try:
            parser.parse_args(words[1:])
        except SystemExit:
            pytest.fail(f"README Scaling out: `{' '.join(words)}` is refused by pylapse")
