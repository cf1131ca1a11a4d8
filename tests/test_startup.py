"""Partner and operator tools start without the matching engine (numpy, scipy, embeddings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "scipy", "wordllama", "telegram")
PROBE = """
import contextlib, io, sys
from bot.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print("loaded:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize(
    "command",
    [["--help"], ["validate"], ["schema"], ["freshness"], ["export", "{tmp}"], ["needs", "--help"]],
)
def test_partner_tools_do_not_load_the_engine(command: list[str], tmp_path: Path) -> None:
    args = [a.replace("{tmp}", str(tmp_path / "csv")) for a in command]
    assert _loaded(args, HEAVY) == "", command


def _loaded(command: list[str], modules: tuple[str, ...]) -> str:
    """Which of `modules` a command loaded, as the probe prints them (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=modules), *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1].removeprefix("loaded:")


def test_the_probe_sees_the_engine_when_a_command_needs_it(tmp_path: Path) -> None:
    """The check above can fail: `ask` needs the engine, and the probe reports it."""
    db = str(tmp_path / "bot.sqlite3")  # the model cache goes beside it, not into the checkout
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), "ask", "health card", "--db", db],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.strip().splitlines()[-1]
    assert "numpy" in loaded and "wordllama" in loaded


# What `validate` and `schema` never need: the database layer, asyncio and the hashing
# secret's cryptography (importing them for every command cost `validate` ~0.1 s of 0.45 s).
STORAGE = ("bot.storage", "asyncio", "aiosqlite", "cryptography", "bot.privacy", "bot.wiring")


@pytest.mark.parametrize("command", [["--help"], ["validate"], ["schema"]])
def test_knowledge_tools_do_not_load_storage(command: list[str]) -> None:
    assert _loaded(command, HEAVY + STORAGE) == "", command
