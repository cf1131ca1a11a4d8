"""A real install: the wheel carries the knowledge base, `welcome-bot` works from any folder,
and it writes state only inside the data directory."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
from setuptools import find_packages

import bot

PROJECT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))


def _data_folders(root: Path, package: str) -> set[str]:
    """Folders under `root` that hold data files but no Python: setuptools installs them only
    when they are listed as packages, and warns about each one left out."""
    return {
        ".".join([package, *folder.relative_to(root).parts])
        for folder in root.rglob("*")
        if folder.is_dir()
        and folder.name != "__pycache__"
        and not (folder / "__init__.py").exists()
        and any(f.is_file() and f.suffix != ".pyc" for f in folder.iterdir())
    }


def test_every_package_is_listed_for_the_wheel() -> None:
    """pyproject.toml lists packages by hand (to map knowledge/); a new one, or a new folder
    of data files, must be added."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    code = find_packages(str(PROJECT), include=["bot*"])
    data = _data_folders(PROJECT / "bot", "bot") | _data_folders(
        PROJECT / "knowledge", "welcome_bot_knowledge"
    )
    assert listed == {*code, "welcome_bot_knowledge", *data}
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"welcome_bot_knowledge": "knowledge"}


def test_version_and_license_are_written_once() -> None:
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bot.__version__"}
    assert bot.__version__.count(".") == 2
    license_text = (PROJECT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License") and PYPROJECT["project"]["license"] == "MIT"


def _run(
    command: list[str], cwd: Path, env: dict[str, str], timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_pip_install_gives_a_working_welcome_bot(tmp_path: Path) -> None:
    """Build the wheel, install it in a fresh venv, ask a question from an unrelated folder."""
    wheels = tmp_path / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(PROJECT)],
        cwd=tmp_path,
        env=dict(os.environ),
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("*.whl")
    assert wheel.name.startswith(f"durham_welcome_bot-{bot.__version__}-")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = _run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        cwd=tmp_path,
        env=dict(os.environ),
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]

    home, elsewhere, data = tmp_path / "home", tmp_path / "elsewhere", tmp_path / "data"
    home.mkdir()
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "XDG_"))}
    env["HOME"] = str(home)
    welcome_bot = str(env_dir / "bin" / "welcome-bot")

    # The shipped knowledge base answers; state goes to the user's data folder, not the cwd.
    asked = _run([welcome_bot, "ask", "how do I get a health card"], elsewhere, env)
    assert asked.returncode == 0, asked.stderr
    assert "ServiceOntario" in asked.stdout
    assert _files_under(elsewhere) == set()
    assert any(
        f.startswith("model-cache/") for f in _files_under(home / ".local/share/welcome-bot")
    )

    # --data-dir (or BOT_DATA_DIR) holds the database and the model cache, nothing elsewhere.
    env["BOT_DATA_DIR"] = str(data)
    logged = _run([welcome_bot, "ask", "--log", "where can I buy a cricket bat"], elsewhere, env)
    assert logged.returncode == 0, logged.stderr
    assert "welcome-bot.sqlite3" in _files_under(data)
    assert any(f.startswith("model-cache/") for f in _files_under(data))
    assert _files_under(elsewhere) == set()

    valid = _run([welcome_bot, "validate"], elsewhere, env)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "region.yaml" not in valid.stdout  # the region profile is shipped

    # No knowledge base where one is named: one clear line naming --kb.
    missing = _run([welcome_bot, "ask", "--kb", str(tmp_path / "nope"), "hello"], elsewhere, env)
    assert missing.returncode == 2
    (line,) = missing.stderr.strip().splitlines()
    assert "no knowledge base at" in line and "--kb" in line

    version = _run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; print(m.version('durham-welcome-bot'))",
        ],
        elsewhere,
        env,
    )
    assert version.stdout.strip() == bot.__version__
