"""The deployment files: docker-compose.yml and the Dockerfile hang together with the code they run.

No Docker engine exists here. When a compose implementation is on PATH (``docker compose`` v2 or Debian's
``docker-compose`` 1.29, which validates the Compose Specification without an engine) it checks the file
too; the structural checks below run everywhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from livekit_room import LiveKitSettings
from mockline.cli import COMMANDS, _load, app

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = {"migrate", "web", "agent", "scoring"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_tier_is_there_with_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "livekit"} | APP_SERVICES
    for name, svc in services.items():
        if name == "migrate":  # one-shot job
            assert svc["restart"] == "no"
            continue
        assert svc["healthcheck"]["test"], name
        assert not svc["healthcheck"].get("disable"), name
    assert "--dev" in services["livekit"]["command"]


def test_dependencies_wait_for_health_and_migrations(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, (name, dep)
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep] and not services[dep]["healthcheck"].get("disable")
            if cond["condition"] == "service_completed_successfully":
                assert services[dep]["restart"] == "no"
    for name in APP_SERVICES - {"migrate"}:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["agent"]["depends_on"]["livekit"]["condition"] == "service_healthy"


def test_app_services_run_real_cli_commands(compose: dict[str, Any]) -> None:
    _load()
    known = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert {"agent", "worker", "up", "db"} <= known
    for name in APP_SERVICES:
        cmd = compose["services"][name]["command"]
        assert cmd[0] == "mockline" and cmd[1] in known, (name, cmd)
    assert "agent" in COMMANDS


def test_livekit_variables_are_ones_the_worker_reads(compose: dict[str, Any]) -> None:
    fields = set(LiveKitSettings.model_fields)
    for name in ("web", "agent"):
        env = compose["services"][name]["environment"]
        for key in env:
            if key.startswith("LIVEKIT_"):
                assert key.removeprefix("LIVEKIT_").lower() in fields, key


def test_the_app_secret_must_be_supplied(compose: dict[str, Any]) -> None:
    env = compose["services"]["web"]["environment"]
    assert re.fullmatch(r"\$\{MOCKLINE_SECRET_KEY:\?.+\}", env["MOCKLINE_SECRET_KEY"])
    assert env["MOCKLINE_ENVIRONMENT"] == "production"  # placeholder secrets are refused there


def test_dockerfile_installs_the_offline_extras_and_espeak() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert "espeak-ng" in text
    default = re.search(r"^ARG EXTRAS=(\S+)$", text, re.M)
    assert default and default.group(1) == "local,piper,smartturn"  # the same default as `make run`
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"local", "piper", "smartturn"} <= set(extras)
    assert 'pip install ".[${EXTRAS}]"' in text


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_config_validates() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no compose implementation on PATH (docker compose plugin or docker-compose)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKLINE_", "LIVEKIT_"))}
    ok = subprocess.run(
        [*cli, "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT, env={**env, "MOCKLINE_SECRET_KEY": "x" * 64}, capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run(
        [*cli, "-f", "docker-compose.yml", "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert missing.returncode != 0 and "MOCKLINE_SECRET_KEY" in missing.stderr
