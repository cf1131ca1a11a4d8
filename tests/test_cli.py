"""The command line, in-process and as a subprocess, on small knowledge bases in tmp_path."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.conftest import ENCODER_OFF

PROJECT = Path(__file__).resolve().parent.parent
MakeKb = Callable[[dict[str, str]], Path]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real token, config or database from the developer's environment."""
    for name in ("TELEGRAM_BOT_TOKEN", "BOT_CONFIG", "BOT_KB", "BOT_DB", "BOT_HASH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_ok(capsys: pytest.CaptureFixture[str], small_kb: Path) -> None:
    code, out, _ = run_cli(capsys, "validate", str(small_kb))
    assert code == 0
    assert "OK: 5 file(s), 2 topics, 3 services, 3 FAQs" in out


def test_validate_reports_file_line_and_fails(
    capsys: pytest.CaptureFixture[str], make_kb: MakeKb
) -> None:
    kb = make_kb({"bad.yaml": "faqs:\n  - id: x\n    questions: [q]\n    answr: hello\n"})
    code, out, _ = run_cli(capsys, "validate", str(kb))
    assert code == 1
    assert 'kb/bad.yaml:4:5: [x] "answr" is not a field this entry can have. Did you mean' in out
    assert "    4 |     answr: hello" in out


def test_validate_json(capsys: pytest.CaptureFixture[str], make_kb: MakeKb) -> None:
    kb = make_kb({"bad.yaml": "faqs:\n  - id: x\n    questions: [q]\n"})
    code, out, _ = run_cli(capsys, "validate", str(kb), "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["ok"] is False
    assert document["errors"][0]["line"] == 2
    assert document["errors"][0]["entry_id"] == "x"


def test_ask_json(capsys: pytest.CaptureFixture[str], small_kb: Path) -> None:
    code, out, _ = run_cli(
        capsys, "ask", "--kb", str(small_kb), "--json", "how do i get a helth card"
    )
    assert code == 0
    answer = json.loads(out)
    assert answer["outcome"] == "answered"
    assert answer["entry_id"] == "health-card"
    assert answer["candidates"][0] == {"entry_id": "health-card", "score": answer["score"]}
    assert "1-800-267-8097" in answer["text"]  # the linked service's contacts are included


def test_ask_does_not_log_unless_asked(capsys: pytest.CaptureFixture[str], small_kb: Path) -> None:
    run_cli(capsys, "ask", "--kb", str(small_kb), "--db", "log.db", "cricket bat shop")
    assert not Path("log.db").exists()
    run_cli(capsys, "ask", "--kb", str(small_kb), "--db", "log.db", "--log", "cricket bat shop")
    with sqlite3.connect("log.db") as db:
        assert db.execute("SELECT outcome, text FROM questions").fetchall() == [
            ("unanswered", "cricket bat shop")
        ]


def test_ask_jsonl_on_the_minimal_form(
    capsys: pytest.CaptureFixture[str], make_kb: MakeKb, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = make_kb(
        {
            "faq.yaml": (
                "faqs:\n"
                "  - {id: bus, questions: [how do I take the bus, bus schedule],"
                " answer: Use DRT.}\n"
                "  - {id: library, questions: [library card, how to join the library],"
                " answer: Visit a branch.}\n"
            )
        }
    )
    lines = [
        {"text": "bus shedule please"},
        {"text": "how can I get a library card", "lang": "en"},
        {"text": "quantum chromodynamics homework"},
        "not an object",
    ]
    stdin = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(stdin))
    code, out, _ = run_cli(capsys, "ask", "--kb", str(kb), "--jsonl")
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert [r.get("entry_id") for r in results[:2]] == ["bus", "library"]
    assert results[2]["outcome"] == "unanswered"
    assert results[2]["entry_id"] is None
    assert "error" in results[3]
    assert all("text" in r for r in results[:3])


def test_ask_explain(capsys: pytest.CaptureFixture[str], small_kb: Path) -> None:
    code, out, _ = run_cli(
        capsys, "ask", "--kb", str(small_kb), "--explain", "my social insurance number"
    )
    assert code == 0
    assert "1. sin-number" in out
    assert "best matching question:" in out
    assert "synonyms used: social insurance number -> sin" in out


def test_ask_explain_shows_spelling_repairs(
    capsys: pytest.CaptureFixture[str], small_kb: Path
) -> None:
    code, out, _ = run_cli(capsys, "ask", "--kb", str(small_kb), "--explain", "helth card")
    assert code == 0
    assert "1. health-card" in out
    assert "spelling: read 'helth' as 'health'" in out


def test_french_cards_use_french_punctuation(
    capsys: pytest.CaptureFixture[str], small_kb: Path
) -> None:
    code, out, _ = run_cli(capsys, "ask", "--kb", str(small_kb), "--lang", "fr", "carte santé")
    assert code == 0
    assert "Téléphone : 1-800-267-8097" in out
    code, out, _ = run_cli(capsys, "ask", "--kb", str(small_kb), "how do I get a health card")
    assert "Phone: 1-800-267-8097" in out


def test_threshold_override(capsys: pytest.CaptureFixture[str], small_kb: Path) -> None:
    _, out, _ = run_cli(
        capsys,
        "ask",
        "--kb",
        str(small_kb),
        "--json",
        "--threshold",
        "100",
        "how do i apply for an ohip card",
    )
    assert json.loads(out)["outcome"] == "unanswered"
    _, out, _ = run_cli(
        capsys, "ask", "--kb", str(small_kb), "--json", "how do i apply for an ohip card"
    )
    assert json.loads(out)["outcome"] == "answered"


def test_crisis_comes_first(capsys: pytest.CaptureFixture[str], small_kb: Path) -> None:
    _, out, _ = run_cli(capsys, "ask", "--kb", str(small_kb), "--json", "I want to kill myself")
    answer = json.loads(out)
    assert answer["outcome"] == "crisis"
    assert answer["crisis_category"] == "self_harm"
    assert "988" in answer["text"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask"], "give a question"),
        (["ask", "--threshold", "200", "x"], "not between 0 and 100"),
        (["nonsense"], "invalid choice"),
        (["validate", "--format", "xml"], "invalid choice"),
    ],
)
def test_bad_arguments_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_broken_knowledge_base_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], make_kb: MakeKb
) -> None:
    kb = make_kb({"bad.yaml": "faqs: [{id: x}]"})
    code, _, err = run_cli(capsys, "ask", "--kb", str(kb), "hello")
    assert code == 1
    assert "kb/bad.yaml:1:8: [x]" in err
    assert "Traceback" not in err


def test_staff_commands_in_process(capsys: pytest.CaptureFixture[str], small_kb: Path) -> None:
    for question in ("where can I buy a cricket bat", "cricket bat shop in Ajax", "yoga mat"):
        run_cli(capsys, "ask", "--kb", str(small_kb), "--db", "log.db", "--log", question)
    code, out, _ = run_cli(capsys, "needs", "--kb", str(small_kb), "--db", "log.db")
    assert code == 0
    assert "cricket" in out and "yoga mat" in out
    _, out, _ = run_cli(
        capsys, "needs", "--db", "log.db", "--kb", str(small_kb), "--format", "json"
    )
    needs = json.loads(out)
    cricket = next(n for n in needs if "cricket" in n["terms"])
    assert cricket["questions"] == 2
    assert cricket["municipalities"] == {"Ajax": 1}
    assert "cricket" in cricket["label"] and cricket["rising"] is False
    assert len(cricket["typical"]) == 2
    code, out, _ = run_cli(capsys, "needs", "--db", "log.db", "--format", "csv")
    assert out.splitlines()[0].startswith("id,label,representative,typical,status")
    assert ",rising," in out.splitlines()[0]
    code, out, _ = run_cli(
        capsys,
        "needs",
        "set",
        str(cricket["id"]),
        "--db",
        "log.db",
        "--status",
        "assigned",
        "--assign",
        "Sports Council",
        "--note",
        "ask",
    )
    assert code == 0
    code, out, _ = run_cli(capsys, "needs", "show", str(cricket["id"]), "--db", "log.db")
    assert "status: assigned (assigned to Sports Council)" in out
    assert f"Need {cricket['id']}: {cricket['label']}" in out
    assert "typical wordings:" in out and "usually" in out
    code, out, _ = run_cli(
        capsys,
        "needs",
        "answer",
        str(cricket["id"]),
        "--db",
        "log.db",
        "--kb",
        str(small_kb),
        "--entry",
        "english-classes",
    )
    assert code == 0
    assert "- where can I buy a cricket bat" in out
    code, out, err = run_cli(
        capsys,
        "needs",
        "answer",
        "999",
        "--db",
        "log.db",
        "--kb",
        str(small_kb),
        "--entry",
        "english-classes",
    )
    assert code == 2 and "no need number 999" in err
    code, out, _ = run_cli(capsys, "stats", "--db", "log.db", "--kb", str(small_kb))
    assert "questions: 3" in out
    code, out, _ = run_cli(
        capsys, "report", "--db", "log.db", "--kb", str(small_kb), "--out", "out/report.html"
    )
    assert code == 0 and Path("out/report.html").read_text().startswith("<!DOCTYPE html>")
    code, out, _ = run_cli(capsys, "purge", "--db", "log.db")
    assert "removed the text of 0 question(s)" in out


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (
        "chat",
        "ask",
        "validate",
        "run",
        "needs",
        "stats",
        "report",
        "purge",
        "digest",
        "partners",
    ):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert "usage:" in capsys.readouterr().out


def _subprocess(
    *args: str, stdin: str = "", env_extra: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd or PROJECT), **ENCODER_OFF, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, str(PROJECT / "run_bot.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize("shipped", [False, True], ids=["small-kb", "shipped-kb"])
def test_chat_as_a_subprocess_answers_and_logs(
    tmp_path: Path, small_kb: Path, shipped: bool
) -> None:
    kb = [] if shipped else ["--kb", str(small_kb)]
    result = _subprocess(
        "chat",
        *kb,
        "--db",
        str(tmp_path / "log.db"),
        stdin="hi\nhow do I get a health card\nno\nwhere can I buy a cricket bat\n?\n"
        "how do I delete my data?\n/quit\n",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "ServiceOntario" in result.stdout and "1-800-267-8097" in result.stdout
    assert "I do not know the answer to that yet" in result.stdout
    assert result.stdout.count("Sorry, that did not help") == 2  # "no" and "?": not logged
    # A request to erase data gets the privacy notice (how long text is kept, /forget), and is
    # not itself kept as an emerging need.
    assert "Questions are deleted after 365 days. Send /forget" in result.stdout
    with sqlite3.connect(tmp_path / "log.db") as db:
        rows = db.execute("SELECT outcome, entry_id, text FROM questions ORDER BY id").fetchall()
    assert rows == [
        ("answered", "health-card", "how do I get a health card"),
        ("unanswered", None, "where can I buy a cricket bat"),
    ]


def test_no_command_and_no_token_means_chat(tmp_path: Path, small_kb: Path) -> None:
    result = _subprocess(
        "--kb", str(small_kb), "--db", str(tmp_path / "log.db"), stdin="/quit\n", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Ask me a question" in result.stdout


def test_validate_as_a_subprocess(tmp_path: Path, make_kb: MakeKb) -> None:
    kb = make_kb({"bad.yaml": "faqs:\n  - id: x\n\tquestions: [a]\n"})
    result = _subprocess("validate", str(kb), cwd=tmp_path)
    assert result.returncode == 1
    assert "kb/bad.yaml:3:1: this line has a tab character" in result.stdout


def test_chat_browses_the_same_screens_as_telegram(tmp_path: Path) -> None:
    """/topics lists topics; a number opens one, and another number shows an entry's card."""
    result = _subprocess(
        "chat", "--no-log", "--db", str(tmp_path / "log.db"), stdin="/topics\n5\n1\n", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Choose a topic:" in out and "5. 🩺 Health" in out
    assert "🩺 Health: choose a question" in out
    assert "1. how do I get a health card" in out
    assert "ServiceOntario" in out  # the entry's card, with its contacts


def _run_bot(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        [sys.executable, str(root / "run_bot.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), **ENCODER_OFF, **env},
        cwd=root,
        check=False,
    )


def test_a_bad_secret_file_stops_the_bot_with_one_line(tmp_path: Path, small_kb: Path) -> None:
    (tmp_path / "bot.sqlite3.secret").write_text("")
    token = "123:SECRET-token-for-the-test"
    done = _run_bot(
        ["run", "--kb", str(small_kb), "--db", str(tmp_path / "bot.sqlite3")],
        {"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot"},
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert errors == [errors[0]] and "secret file" in errors[0] and "is empty" in errors[0]
    assert "Traceback" not in done.stderr and token not in done.stderr


def test_an_unreachable_api_is_one_line_without_the_token(tmp_path: Path, small_kb: Path) -> None:
    token = "123:SECRET-token-for-the-test"
    done = _run_bot(
        ["run", "--kb", str(small_kb), "--db", str(tmp_path / "bot.sqlite3")],
        {
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # the discard port: refused
            "BOT_HASH_SECRET": "s" * 32,
        },
    )
    assert done.returncode == 1
    assert (
        "cannot start: cannot reach the Telegram Bot API at http://127.0.0.1:9/bot" in done.stderr
    )
    assert "Traceback" not in done.stderr and token not in done.stderr


def test_log_lines_have_time_and_level_even_after_wordllama(
    capsys: pytest.CaptureFixture[str], small_kb: Path
) -> None:
    import logging

    import wordllama  # noqa: F401 - it calls logging.basicConfig when imported

    main(["ask", "--kb", str(small_kb), "how do I get a health card"])
    handler = logging.getLogger().handlers[0]
    assert handler.formatter is not None
    assert handler.formatter._fmt == "%(asctime)s %(levelname)s %(name)s: %(message)s"


def test_ask_into_a_closed_pipe_is_quiet(small_kb: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    command = f"{sys.executable} {root / 'run_bot.py'} ask --kb {small_kb} --jsonl | head -c 1"
    lines = "\n".join('{"text": "how do I get a health card"}' for _ in range(300))
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


async def test_a_rejected_token_is_one_line_without_the_token(
    tmp_path: Path, small_kb: Path
) -> None:
    import asyncio

    from tests.fakebotapi import FakeBotApi

    root = Path(__file__).resolve().parent.parent
    wrong = "999:WRONG-token-must-never-be-printed"
    async with FakeBotApi("123:the-right-token") as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(root / "run_bot.py"),
            "run",
            "--kb",
            str(small_kb),
            "--db",
            str(tmp_path / "bot.sqlite3"),
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(root),
                **ENCODER_OFF,
                "TELEGRAM_BOT_TOKEN": wrong,
                "TELEGRAM_API_BASE_URL": server.base_url,
                "BOT_HASH_SECRET": "s" * 32,
            },
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    text = stderr.decode()
    assert process.returncode == 1
    assert "cannot start: Telegram rejected the bot token" in text
    assert wrong not in text and "Traceback" not in text
