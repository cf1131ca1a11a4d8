"""Deployment files: the systemd unit passes `systemd-analyze verify`, the Dockerfile and the
compose example keep their promises (non-root, health check, data volume, mountable knowledge),
and CI names no path of one particular machine."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parent.parent
UNIT = PROJECT / "deploy" / "welcome-bot.service"
INSTALLED = "/opt/welcome-bot/bin/welcome-bot"


def _settings(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_is_hardened() -> None:
    unit = _settings(UNIT.read_text(encoding="utf-8"))
    assert unit["DynamicUser"] == ["yes"]
    assert unit["StateDirectory"] == ["welcome-bot"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["NoNewPrivileges"] == ["yes"]
    assert unit["CapabilityBoundingSet"] == [""]
    assert unit["Environment"][0] == "BOT_DATA_DIR=/var/lib/welcome-bot"
    assert unit["ExecStart"][0].startswith(f"{INSTALLED} run --health-port")
    assert "TELEGRAM_BOT_TOKEN" not in "".join(unit.get("Environment", []))  # secrets: a file


def _verify(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # verify checks that ExecStart exists: point it at a stand-in executable.
    stand_in = tmp_path / "welcome-bot"
    stand_in.write_text("#!/bin/sh\n", encoding="utf-8")
    stand_in.chmod(0o755)
    unit = tmp_path / "welcome-bot.service"
    unit.write_text(text.replace(INSTALLED, str(stand_in)), encoding="utf-8")
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None
    return subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here"
)
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    text = UNIT.read_text(encoding="utf-8")
    result = _verify(text, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # not even a warning (an unknown key is only a warning)
    # The check can fail: a misspelt key is reported.
    result = _verify(text.replace("ProtectSystem=", "ProtectSystm="), tmp_path)
    assert "Unknown key" in result.stderr


def test_the_dockerfile() -> None:
    text = (PROJECT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", text, re.M)
    assert bases and all(b.endswith("-slim") for b in bases)
    (user,) = re.findall(r"^USER (\S+)", text, re.M)
    assert user not in ("root", "0")
    # USER comes after every install step, so the bot never runs as root.
    assert text.index("USER ") > max(m.start() for m in re.finditer(r"^RUN ", text, re.M))
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", text, re.M)
    assert 'VOLUME ["/data"]' in text
    assert "BOT_DATA_DIR=/data" in text and "BOT_KB=/knowledge" in text
    assert "BOT_HEALTH_PORT=8080" in text
    ignored = (PROJECT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {"data", ".git", ".venv"} <= set(ignored)  # no state or history in the image


def test_the_compose_example() -> None:
    compose = yaml.safe_load((PROJECT / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["welcome-bot"]
    assert "welcome-bot-data:/data" in service["volumes"]
    assert "./knowledge:/knowledge:ro" in service["volumes"]
    assert service["restart"] == "unless-stopped"
    assert "welcome-bot-data" in compose["volumes"]
    token = service["environment"]["TELEGRAM_BOT_TOKEN"]
    assert token.startswith("${TELEGRAM_BOT_TOKEN")  # from .env, never written here


def test_ci_names_no_machine_path() -> None:
    script = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
    # No absolute folder of one particular machine (the clone may be anywhere).
    for machine_folder in ("work", "home", "root"):
        assert f"/{machine_folder}/" not in script
    assert "../shared/durham-facts.md" in script


def test_the_readme_explains_production() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "Dockerfile",
        "compose.yaml",
        "deploy/welcome-bot.service",
        "/healthz",
        "/metrics",
        "backup --out",
        "restore",
        "--with-secret",
        "BOT_DATA_DIR",
        "crontab",
        "MiB",
    ):
        assert needed in section, needed
