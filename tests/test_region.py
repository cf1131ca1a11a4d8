"""The region profile: a partnership elsewhere replaces knowledge/ and no code.

A small second region (other name, other towns, another time zone, no Durham anywhere) runs
through chat, ask, needs, report and the Telegram welcome: "Durham" appears in no output.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import Settings
from bot.knowledge.loader import load_directory, load_knowledge
from bot.knowledge.model import EVERYWHERE
from bot.telegram import app as telegram_app
from tests.conftest import REGION_YAML, write_kb
from tests.fakebotapi import FakeBotApi

PROJECT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token-never-logged-abcdef"

# Invented for the test: no real region, partnership or service.
MAPLE_REGION = """
region:
  name: {en: Maple Valley, fr: la vallée Maple}
  everywhere: {en: All of Maple Valley, fr: Toute la vallée Maple}
  everywhere_aliases: [Maple Valley]
  partnership:
    name: Maple Valley Local Immigration Partnership
    website: https://maple-valley.example.org
  time_zone: America/Vancouver
  emergency: "911"
  help_line: {name: 211 Maple, phone: "211"}
  municipalities:
    - name: Riverton
      aliases: [Mill Creek]
    - name: Cedar Falls
"""

MAPLE_KB = {
    "region.yaml": MAPLE_REGION,
    "topics.yaml": """
        topics:
          - id: health
            title: {en: Health, fr: Santé}
            emoji: "🩺"
        """,
    "services.yaml": """
        services:
          - id: riverton-clinic
            name: Riverton Newcomer Clinic
            topics: [health]
            phones: ["250-555-0101"]
            municipalities: [Riverton]
          - id: valley-health-line
            name: Valley Health Line
            topics: [health]
            phones: ["250-555-0102"]
            municipalities: [All of Maple Valley]
          - id: crisis-988
            name: Suicide Crisis Helpline
            phones: ["988"]
        """,
    "faqs.yaml": """
        faqs:
          - id: family-doctor
            topic: health
            questions:
              en: [how do I find a family doctor, I need a doctor]
              fr: [comment trouver un médecin de famille]
            answer:
              en: Register with the clinic near you.
              fr: Inscrivez-vous à la clinique près de chez vous.
            services: [riverton-clinic, valley-health-line]
        """,
    "crisis.yaml": """
        crisis:
          - id: self-harm
            category: self_harm
            triggers: [kill myself]
            reply: Please call 988 now.
            services: [crisis-988]
        """,
}


def _events(now: datetime) -> str:
    start = (now + timedelta(days=3)).strftime("%Y-%m-%d %H:%M")
    return f"""
        events:
          - id: valley-fair
            title: Valley welcome fair
            start: "{start}"
            municipality: Maple Valley
          - id: falls-picnic
            title: Falls picnic
            start: "{start}"
            municipality: Cedar Falls
        """


@pytest.fixture
def maple_kb(tmp_path: Path) -> Path:
    return write_kb(tmp_path, {**MAPLE_KB, "events.yaml": _events(datetime.now(UTC))})


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "BOT_CONFIG", "BOT_KB", "BOT_DB", "BOT_HASH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("BOT_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


def _no_durham(text: str) -> None:
    assert "durham" not in text.casefold(), text


# -- the profile itself -----------------------------------------------------------------------


def test_the_profile_is_loaded_and_used(maple_kb: Path) -> None:
    knowledge = load_knowledge(maple_kb)
    region = knowledge.region
    assert region.names == ("Riverton", "Cedar Falls")
    assert region.places_in("a doctor in mill creek?") == ["Riverton"]
    assert knowledge.services["valley-health-line"].municipalities == [EVERYWHERE]
    assert knowledge.events["valley-fair"].municipality == EVERYWHERE
    # Naive event times are the region's local time (Vancouver, not Toronto).
    assert str(knowledge.events["falls-picnic"].start.tzinfo) == "America/Vancouver"


def test_a_town_outside_the_region_is_a_clear_error(make_kb) -> None:  # type: ignore[no-untyped-def]
    kb = make_kb(
        {
            "region.yaml": MAPLE_REGION,
            "s.yaml": "services:\n  - id: s\n    name: S\n    municipalities: [Oshawa]\n",
        }
    )
    (error,) = [str(p) for p in load_directory(kb).errors]
    assert error.startswith("kb/s.yaml:4:")
    assert '"Oshawa" is not one of the municipalities in region.yaml: Riverton, Cedar Falls' in (
        error
    )
    assert '(or "All of Maple Valley")' in error


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("America/Vancouver", "Maple/Nowhere"), "is not a time zone"),
        (("    - name: Cedar Falls", "    - name: Riverton"), '"Riverton" is listed twice'),
        (("  time_zone:", "  timezone:"), 'Did you mean "time_zone"?'),
    ],
)
def test_profile_mistakes_are_explained(
    make_kb,  # type: ignore[no-untyped-def]
    change: tuple[str, str],
    expected: str,
) -> None:
    kb = make_kb({"region.yaml": MAPLE_REGION.replace(*change)})
    errors = [str(p) for p in load_directory(kb).errors]
    assert any(e.startswith("kb/region.yaml:") and expected in e for e in errors), errors


def test_one_region_per_knowledge_base(make_kb) -> None:  # type: ignore[no-untyped-def]
    kb = make_kb({"a.yaml": MAPLE_REGION, "b.yaml": REGION_YAML})
    errors = [str(p) for p in load_directory(kb).errors]
    assert any("already described in kb/a.yaml" in e for e in errors), errors


def test_without_a_profile_the_words_are_neutral(make_kb) -> None:  # type: ignore[no-untyped-def]
    kb = make_kb({"f.yaml": "faqs: [{id: f, questions: [q], answer: a}]"})
    result = load_directory(kb)
    assert result.ok
    assert any("there is no region.yaml" in str(w) for w in result.warnings)
    assert result.knowledge is not None
    assert result.knowledge.region.time_zone == "UTC"


# -- no Durham in the code ----------------------------------------------------------------------


def test_no_durham_place_in_code_or_messages() -> None:
    """Every Durham-specific word lives in knowledge/region.yaml, none in bot/."""
    durham = load_knowledge(PROJECT / "knowledge" / "region.yaml").region
    words = {"durham", "toronto", *(w.casefold() for w in durham.names)}
    words |= {a.casefold() for town in durham.municipalities for a in town.aliases}
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(words)) + r")\b", re.I)
    found = [
        f"{path.relative_to(PROJECT)}:{number}: {line.strip()}"
        for path in sorted((PROJECT / "bot").rglob("*"))
        if path.suffix in (".py", ".yaml")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


# -- the second region end to end ---------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    _no_durham(out + err)
    return out


def test_chat_ask_needs_and_report_speak_of_the_second_region(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    maple_kb: Path,
    tmp_path: Path,
) -> None:
    kb = ["--kb", str(maple_kb), "--db", str(tmp_path / "log.db")]
    monkeypatch.setattr("sys.stdin", io.StringIO("I need a doctor in Mill Creek\n/quit\n"))
    out = _run(capsys, "chat", *kb)
    assert "newcomer welcome bot for Maple Valley" in out
    assert "welcome to Maple Valley!" in out
    assert "Riverton Newcomer Clinic" in out
    out = _run(capsys, "ask", *kb, "--lang", "fr", "comment trouver un médecin de famille")
    assert "Toute la vallée Maple" in out  # the whole-region label, in French
    out = _run(capsys, "ask", *kb, "--log", "cricket bat shop in Mill Creek")
    assert "I do not know" in out
    _run(capsys, "ask", *kb, "--log", "where to buy a cricket bat in Cedar Falls")
    out = _run(capsys, "needs", *kb, "--format", "json")
    (cricket,) = [n for n in json.loads(out) if "cricket" in n["terms"]]
    assert cricket["municipalities"] == {"Cedar Falls": 1, "Riverton": 1}
    assert "cedar" not in cricket["terms"] and "mill" not in cricket["terms"]
    _run(capsys, "report", *kb, "--out", str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    _no_durham(html)
    assert "Maple Valley Local Immigration Partnership" in html


async def test_the_telegram_welcome_speaks_of_the_second_region(
    maple_kb: Path, tmp_path: Path
) -> None:
    async with FakeBotApi(TOKEN) as server:
        settings = Settings(
            telegram_token=TOKEN,
            api_base_url=server.base_url,
            kb_dir=maple_kb,
            db_path=tmp_path / "bot.sqlite3",
            hash_secret="s" * 32,
        )
        application = telegram_app.build_application(settings)
        await telegram_app.start_polling(application, timeout=1)
        try:
            texts = []
            for user_id, lang, command in (
                (1, "en", "/start"),
                (2, "fr", "/start"),
                (1, "en", "/events"),
                (1, "en", "/help"),
            ):
                before = len(server.messages(user_id))
                await server.send_text(server.user(user_id, language_code=lang), command)
                messages = await server.wait_for_messages(user_id, before + 1)
                texts.append(messages[-1].text)
                for message in messages[before:]:
                    _no_durham(message.text)
                    _no_durham(" ".join(label for label, _ in message.buttons))
        finally:
            await telegram_app.stop(application)
    assert "welcome to Maple Valley" in texts[0]
    assert "bienvenue dans la vallée Maple" in texts[1]
    assert "All of Maple Valley" in texts[2]  # the fair's place, from the profile
