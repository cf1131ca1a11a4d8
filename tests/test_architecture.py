"""The layers hold: import-linter passes on the package and fails on a planted violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter with the project's contracts on the package in `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_package(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "bot", tree / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_layers_hold(tmp_path: Path) -> None:
    done = lint(copy_of_the_package(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "violation"),
    [
        ("bot/knowledge/model.py", "import bot.storage"),  # the core reaching into storage
        ("bot/matching/matcher.py", "import telegram"),  # the core importing an adapter
        ("bot/storage/records.py", "import bot.telegram.app"),  # anything importing an adapter
    ],
)
def test_a_planted_violation_fails(tmp_path: Path, module: str, violation: str) -> None:
    tree = copy_of_the_package(tmp_path)
    target = tree / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{violation}  # noqa\n")
    done = lint(tree)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
