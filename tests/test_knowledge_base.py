"""The shipped Durham knowledge base: valid, sourced, dated, complete, and inventing nothing.

Facts come from `../shared/durham-facts.md` (the compiled public sources). The checks that
compare against it are skipped, with the reason shown, where that file is absent (a user's
clone of the project).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.knowledge.loader import LoadResult, load_directory
from bot.knowledge.model import (
    CRISIS_CATEGORIES,
    CrisisLine,
    Event,
    Faq,
    KnowledgeBase,
    Service,
    all_texts,
    languages_of,
    localise,
    phone_digits,
    texts_of,
)
from bot.matching.safety import SafetyDetector
from bot.replies.glossary import Glossary
from bot.text import normalise

PROJECT = Path(__file__).resolve().parents[1]
KNOWLEDGE = PROJECT / "knowledge"
QUESTIONS = PROJECT / "tests" / "data" / "questions.jsonl"
# The facts file beside the project (../shared), or wherever DURHAM_FACTS points.
FACTS = Path(
    os.environ.get("DURHAM_FACTS")
    or Path(__file__).resolve().parents[2] / "shared" / "durham-facts.md"
)

MIN_SERVICES = 50
MIN_FAQS = 100
MIN_QUESTION_VARIANTS = 6
MIN_FRENCH_FAQS = 30
MIN_LABELLED = 250
MIN_OUT_OF_SCOPE = 60
MIN_PER_TOPIC = 8
KINDS = {
    "paraphrase",
    "typo",
    "informal",
    "abbreviation",
    "french",
    "out_of_scope",
    "near_miss",
    "crisis",
}

# `source` must be a full web address written out in the facts file. Where the facts kept a
# source only without "https://" (a bare domain or path), the entry's source is that address
# made whole; each such case is listed here with why, and in knowledge/GAPS.md for partners.
SOURCE_EXCEPTIONS = {
    "https://kidshelpphone.ca": "facts cite the bare domain kidshelpphone.ca",
    "https://unemployedhelp.on.ca": "facts give DRUHC's site as the bare domain",
    "https://gapcommittee.ca/author/gapcommittee/": "facts cite this page without https://",
    "https://distresscentredurham.com": "facts give the website as a bare domain",
    "https://whitbylibrary.ca": "facts give the website as a bare domain",
    "https://durhamcas.ca": "facts give Children's Aid's website as the bare domain",
    "https://ontariopoisoncentre.ca": "facts cite ontariopoisoncentre.ca pages without https://",
    "https://canadianhumantraffickinghotline.ca/who-are-we": (
        "facts cite this page without https://"
    ),
    "https://fiestaweek.com": "facts give the website as a bare domain",
    "https://legalaid.on.ca": "facts cite legalaid.on.ca pages without https://",
    "https://refugee.cleo.on.ca/en/getting-legal-help": "facts cite this page without https://",
    "https://hrlsc.on.ca": "facts cite the bare domain hrlsc.on.ca",
    "https://college-ic.ca": "facts cite college-ic.ca (top tips) without https://",
    "https://trentu.ca": "facts cite the bare domain trentu.ca",
    "https://international.ontariotechu.ca": "facts cite this domain without https://",
    "https://www.tcet.com/assessments": "facts give www.tcet.com/assessments without https://",
    "https://leedsgrenvilleimmigration.ca/credentials": "facts cite this page without https://",
    "https://cplma.ca": "facts give the website as a bare domain",
    "https://uxbridgefoodbank.com": "facts give the website as a bare domain",
    "https://thestandardnewspaper.ca/post/meet-service-canada-at-the-uxbridge-library": (
        "facts cite this article without https://"
    ),
    "https://thestandardnewspaper.ca/post/operation-scugog-food-bank": (
        "facts cite this article without https://"
    ),
    "https://connectinggta.com/etn/multicultural-festival-june-2026": (
        "facts cite this page without https://"
    ),
    (
        "https://newsite.stepstojustice.ca/steps/employment-and-work/"
        "1-apply-social-insurance-number/"
    ): "facts cite this Steps to Justice page without https://",
}

# Trigger words so common that they would fire the crisis reply on ordinary questions.
TOO_GENERIC_TRIGGERS = {
    "help",
    "doctor",
    "hospital",
    "emergency",
    "police",
    "fire",
    "sad",
    "hungry",
    "pain",
    "sick",
    "hurt",
    "cold",
    "shelter",
    "homeless",
    "danger",
    "urgence",
    "aide",
    "feu",
    "malade",
}

ORDINARY_QUESTIONS = [
    "how do I get a health card",
    "where is the nearest hospital",
    "police non emergency number",
    "fire safety at home",
    "cooking classes for newcomers",
    "is there a bus strike",
    "best rated dentist in ajax",
    "my child is missing school because of bullying",
    "I lost my child's health card",
    "I don't want to live in Oshawa anymore, which town is cheaper",
    "we passed out flyers at the food bank",
    "how to report child care fees on my taxes",
    "je veux nourrir ma famille, banque alimentaire",
    "tourner à gauche au feu rouge",
    "emergency shelter phone number",
    "I feel sad and lonely",
]

CRISIS_MESSAGES = {
    "i want to kill myself": "self_harm",
    "thinking about suicde": "self_harm",
    "je veux me suicider": "self_harm",
    "my dad has chest pain": "medical",
    "she is not breathing": "medical",
    "il ne respire plus": "medical",
    "a child is in danger": "child_abuse",
    "mon enfant a disparu": "child_abuse",
    "my husband hits me": "domestic_violence",
    "il me frappe": "domestic_violence",
    "I am being abused at home": "domestic_violence",
    "violence conjugale": "domestic_violence",
    "I have nowhere to sleep tonight": "homeless",
    "je dois dormir dehors": "homeless",
    "I smell gas in my kitchen": "fire_gas",
}


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return load_directory(KNOWLEDGE)


@pytest.fixture(scope="module")
def knowledge(result: LoadResult) -> KnowledgeBase:
    assert result.errors == [], [str(p) for p in result.errors]
    assert result.knowledge is not None
    return result.knowledge


@pytest.fixture(scope="module")
def facts() -> str:
    if not FACTS.exists():
        pytest.skip(f"{FACTS} is not here (a user's clone): cannot check facts against sources")
    return FACTS.read_text(encoding="utf-8")


def _sourced(knowledge: KnowledgeBase) -> list[Service | Faq | Event | CrisisLine]:
    return [*knowledge.entries(), *knowledge.crisis]


# --- The knowledge base loads, and every entry says where it comes from -------------------


def test_loads_without_errors(result: LoadResult) -> None:
    assert result.errors == [], "\n".join(str(p) for p in result.errors)
    assert result.knowledge is not None


def test_every_entry_is_sourced_dated_and_owned(knowledge: KnowledgeBase) -> None:
    for entry in _sourced(knowledge):
        assert entry.source, f"{entry.id} has no source (a full web address)"
        assert entry.last_verified is not None, f"{entry.id} has no last_verified"
        assert entry.owner, f"{entry.id} names no owner to keep it current"


def test_unverified_entries_say_why(knowledge: KnowledgeBase) -> None:
    for entry in _sourced(knowledge):
        if entry.unverified:
            assert entry.caveat, f"{entry.id} is unverified: add a caveat in plain words"
            assert "fr" in languages_of(entry.caveat), f"{entry.id}: caveat has no French"


# --- Nothing is invented: phones, web addresses and emails come from the facts file --------

_PHONE_TEXT = re.compile(
    r"(?<![\d-])(?:1-)?\d{3}-\d{3}-\d{4}(?:,?\s*(?:ext\.?|x|poste)\s*(\d{1,6}))?",
    re.IGNORECASE,
)


def _facts_numbers(facts: str) -> set[str]:
    """Every phone number or short code in the facts, as bare digits (a leading 1 dropped)."""
    out = set()
    runs = re.findall(r"(?:1[\s.-])?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}", facts)
    runs += re.findall(r"(?<![\d-])\d(?:-\d){2}(?![\d-])", facts)  # "2-1-1"
    runs += re.findall(r"(?<![\d-])\d{3,6}(?![\d-])", facts)  # 911, 686868
    for run in runs:
        digits = re.sub(r"\D", "", run)
        out.add(digits[1:] if len(digits) == 11 and digits.startswith("1") else digits)
    # Vanity numbers the facts spell out in digits: "1-800-222-TIPS (8477)".
    for area, exchange, letters, spelled in re.findall(
        r"1-(\d{3})-(\d{3})-([A-Z]{4}) \((\d{4})\)", facts
    ):
        out.add(area + exchange + spelled)
        out.add(area + exchange + letters)
    return out


def _bare(number: str) -> str:
    digits = phone_digits(number)
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _extension_is_in_facts(main: str, extension: str, facts: str) -> bool:
    """The extension appears shortly after the main number somewhere in the facts."""
    pattern = r"[\s.()-]?".join(main[i : i + 1] for i in range(len(main)))
    for found in re.finditer(pattern, facts):
        if re.search(rf"(?<!\d){extension}(?!\d)", facts[found.end() : found.end() + 160]):
            return True
    return False


def test_no_phone_number_is_invented(knowledge: KnowledgeBase, facts: str) -> None:
    known = _facts_numbers(facts)
    checked = 0
    for service in knowledge.services.values():
        for phone in [*service.phones, *(p for site in service.locations for p in site.phones)]:
            digits = _bare(phone.number)
            assert digits in known, f"{service.id}: {phone.number} is not in durham-facts.md"
            extension = re.search(r"(?:ext\.?|x|extension)\s*(\d+)\s*$", phone.number, re.I)
            if extension:
                assert _extension_is_in_facts(digits, extension.group(1), facts), (
                    f"{service.id}: extension in {phone.number} is not in durham-facts.md"
                )
            checked += 1
    for entry in [*_sourced(knowledge)]:
        for text in texts_of(entry):
            for found in _PHONE_TEXT.finditer(text):
                digits = _bare(re.sub(r"(?i),?\s*(ext\.?|x|poste)\s*\d+$", "", found.group(0)))
                assert digits in known, f"{entry.id}: {found.group(0)} is not in durham-facts.md"
                if found.group(1):
                    assert _extension_is_in_facts(digits, found.group(1), facts), (
                        f"{entry.id}: extension in {found.group(0)} is not in durham-facts.md"
                    )
                checked += 1
    assert checked > 100  # the scan really looked at the numbers


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower())


def test_no_street_address_is_invented(knowledge: KnowledgeBase, facts: str) -> None:
    plain = _plain(facts)
    checked = 0
    addresses = [
        (service.id, address)
        for service in knowledge.services.values()
        for address in [service.address, *(site.address for site in service.locations)]
        if address
    ]
    for entry_id, address in addresses:
        street = address.split(",")[0]
        numbered = re.search(r"(\d+)\s+([A-Za-z]+)", street)
        if numbered:
            # "158 St. George Street" in an entry, "158 St. George St." in the facts.
            number, word = numbered.group(1), numbered.group(2).lower()
            assert re.search(rf"(?<!\d){number} {word}\b", plain), (
                f"{entry_id}: {street!r} is not in durham-facts.md"
            )
        else:
            words = [w for w in _plain(street).split() if len(w) >= 4 and w != "near"]
            assert all(w in plain for w in words), f"{entry_id}: {street!r} is not in the facts"
        checked += 1
    assert checked >= 25


_URLISH = re.compile(
    r"(?<![@\w.-])(?:https?://)?(?:[a-z0-9-]+\.)+(?:ca|com|org|net|gc\.ca)(?:/[^\s<>\"'),;]*)?",
    re.IGNORECASE,
)


def _url_key(url: str) -> str:
    key = re.sub(r"^https?://", "", url.strip().lower())
    key = re.sub(r"^www\.", "", key)
    return key.rstrip("/.")


def _facts_urls(facts: str) -> set[str]:
    return {_url_key(m.group(0)) for m in _URLISH.finditer(facts)}


def test_web_addresses_come_from_the_facts(knowledge: KnowledgeBase, facts: str) -> None:
    known = _facts_urls(facts)
    for entry in _sourced(knowledge):
        urls = [entry.source, *entry.sources]
        urls += [getattr(entry, "website", None), getattr(entry, "registration_url", None)]
        for url in filter(None, urls):
            assert _url_key(url) in known, f"{entry.id}: {url} is not in durham-facts.md"
        # Addresses written inside answers and descriptions ("ontario.ca/healthcareconnect").
        for text in texts_of(entry):
            for found in _URLISH.finditer(text):
                if "@" in text[max(0, found.start() - 1) : found.start()]:
                    continue
                assert _url_key(found.group(0)) in known, (
                    f"{entry.id}: {found.group(0)} (in its text) is not in durham-facts.md"
                )


def test_sources_are_full_addresses_written_in_the_facts(
    knowledge: KnowledgeBase, facts: str
) -> None:
    used: set[str] = set()
    for entry in _sourced(knowledge):
        for url in filter(None, [entry.source, *entry.sources]):
            if url in SOURCE_EXCEPTIONS:
                used.add(url)
                continue
            exact = re.escape(url.rstrip("/")) + r"/?(?=[\s);,]|$)"
            assert re.search(exact, facts, re.MULTILINE), (
                f"{entry.id}: source {url} is not written out in durham-facts.md; use a full "
                "address from the facts, or list it in SOURCE_EXCEPTIONS with the reason"
            )
    assert used == set(SOURCE_EXCEPTIONS), (
        f"exceptions no longer used, remove them: {sorted(set(SOURCE_EXCEPTIONS) - used)}"
    )


def test_source_exceptions_are_listed_for_partners() -> None:
    gaps = (KNOWLEDGE / "GAPS.md").read_text(encoding="utf-8")
    for url in SOURCE_EXCEPTIONS:
        assert url in gaps, f"{url} is a source exception: list it in knowledge/GAPS.md"


def test_emails_come_from_the_facts(knowledge: KnowledgeBase, facts: str) -> None:
    lowered = facts.lower()
    emails = [s.email for s in knowledge.services.values() if s.email]
    for entry in _sourced(knowledge):
        for text in texts_of(entry):
            emails += re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)
    assert emails
    for email in emails:
        assert email.lower() in lowered, f"{email} is not in durham-facts.md"


# --- Coverage -------------------------------------------------------------------------------


def test_enough_services_and_faqs(knowledge: KnowledgeBase) -> None:
    assert len(knowledge.services) >= MIN_SERVICES
    assert len(knowledge.faqs) >= MIN_FAQS


def test_faqs_have_many_wordings_and_link_services(knowledge: KnowledgeBase) -> None:
    for faq in knowledge.faqs.values():
        assert len(all_texts(faq.questions)) >= MIN_QUESTION_VARIANTS, (
            f"{faq.id} needs at least {MIN_QUESTION_VARIANTS} questions"
        )
        assert faq.keywords, f"{faq.id} has no keywords"
        assert faq.services, f"{faq.id} links no service to contact"
        assert faq.topic in knowledge.topics, f"{faq.id} has no known topic"


def _sentences(text: str) -> int:
    text = re.sub(r"\b(St|ext|Ave|No|e\.g|i\.e|a\.m|p\.m|E\.A|Dr|Rd|W|E|S|N)\.", "", text)
    text = re.sub(r"\d\.\d", "", text)
    # Full stops of other scripts: Hindi/Punjabi danda, Urdu, Arabic/Persian question mark,
    # Chinese (which needs no space after them).
    return len(
        [
            s
            for s in re.split(r"[.!?\u0964\u06d4\u061f]+(?:\s|$)|[\u3002\uff01\uff1f]", text)
            if s.strip()
        ]
    )


def test_answers_are_short(knowledge: KnowledgeBase) -> None:
    for faq in knowledge.faqs.values():
        for language, answer in (
            faq.answer.items() if isinstance(faq.answer, dict) else [("en", faq.answer)]
        ):
            count = _sentences(answer)
            # A translation may split a long English sentence in two, for plainer words.
            most = 5 if language in {"en", "fr"} else 7
            assert 2 <= count <= most, (
                f"{faq.id} ({language}) has {count} sentences: keep 2 to {most}"
            )


def test_every_topic_has_faqs_and_services(knowledge: KnowledgeBase) -> None:
    for topic in knowledge.topics:
        entries = knowledge.entries_in_topic(topic)
        assert any(isinstance(e, Faq) for e in entries), f"topic {topic} has no FAQ"
    covered = {t for s in knowledge.services.values() for t in s.topics}
    assert covered >= set(knowledge.topics) - {"daily-life"}, (
        f"topics with no service: {sorted(set(knowledge.topics) - covered)}"
    )


def test_someone_to_point_to_when_the_bot_does_not_know(knowledge: KnowledgeBase) -> None:
    helpers = [s for s in knowledge.services.values() if s.offer_when_unanswered]
    assert 1 <= len(helpers) <= 3
    for helper in helpers:
        assert helper.phones or helper.website, f"{helper.id} has no way to be reached"


def test_french_coverage(knowledge: KnowledgeBase) -> None:
    for topic in knowledge.topics.values():
        assert "fr" in languages_of(topic.title), f"topic {topic.id} has no French title"
    for line in knowledge.crisis:
        assert "fr" in languages_of(line.reply), f"crisis line {line.id} has no French reply"
        french = next(lexicon for lexicon in knowledge.safety if lexicon.language == "fr")
        assert line.category in french.categories, f"crisis line {line.id} has no French words"
    french = [
        f
        for f in knowledge.faqs.values()
        if "fr" in languages_of(f.questions) and "fr" in languages_of(f.answer)
    ]
    assert len(french) >= MIN_FRENCH_FAQS, f"only {len(french)} FAQs have French"


def test_events_are_dated_and_described(knowledge: KnowledgeBase) -> None:
    assert knowledge.events, "add the community events the facts support"
    for event in knowledge.events.values():
        assert event.end is not None or event.schedule, f"{event.id}: say when it ends"
        assert event.topic in knowledge.topics, f"{event.id} has no known topic"


# --- The safety tripwire --------------------------------------------------------------------


def test_crisis_categories_are_covered(knowledge: KnowledgeBase) -> None:
    categories = {line.category for line in knowledge.crisis}
    assert categories == set(CRISIS_CATEGORIES)
    english = next(lexicon for lexicon in knowledge.safety if lexicon.language == "en")
    for line in knowledge.crisis:
        assert line.services, f"{line.id} links no service to call"
        assert line.category in english.categories, f"{line.id} has no English words"


def test_no_trigger_is_too_generic(knowledge: KnowledgeBase) -> None:
    for line in knowledge.crisis:
        for trigger in all_texts(line.triggers):
            assert normalise(trigger) not in TOO_GENERIC_TRIGGERS, (
                f"{line.id}: {trigger!r} alone would fire on ordinary questions"
            )
    for lexicon in knowledge.safety:
        for category, concept in lexicon.categories.items():
            for term in concept.terms:
                # "fire" and "feu" alone are danger; their ordinary uses are idioms.
                if normalise(term) in {"fire", "feu"}:
                    continue
                assert normalise(term) not in TOO_GENERIC_TRIGGERS, (
                    f"{lexicon.language}/{category}: {term!r} alone would fire on ordinary "
                    "questions"
                )


def test_tripwire_catches_danger_in_both_languages(knowledge: KnowledgeBase) -> None:
    tripwire = SafetyDetector.for_knowledge(knowledge)
    for message, category in CRISIS_MESSAGES.items():
        line = tripwire.check(message)
        assert line is not None, f"{message!r} should reach the crisis reply"
        assert line.category == category, f"{message!r} reached {line.category}"


def test_tripwire_leaves_ordinary_questions_alone(knowledge: KnowledgeBase) -> None:
    tripwire = SafetyDetector.for_knowledge(knowledge)
    for question in ORDINARY_QUESTIONS:
        assert tripwire.check(question) is None, f"{question!r} should not fire the tripwire"


def test_faq_wordings_are_reachable(knowledge: KnowledgeBase) -> None:
    # The tripwire runs first: a stored wording that contains a trigger can never be matched.
    tripwire = SafetyDetector.for_knowledge(knowledge)
    for faq in knowledge.faqs.values():
        for question in all_texts(faq.questions):
            line = tripwire.check(question)
            assert line is None, f"{faq.id}: {question!r} fires crisis line {line and line.id}"


# --- The labelled question set ------------------------------------------------------------


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_question_set_size_and_shape(rows: list[dict[str, Any]]) -> None:
    assert len(rows) >= MIN_LABELLED
    assert sum(r["expected"] is None for r in rows) >= MIN_OUT_OF_SCOPE
    for row in rows:
        assert set(row) <= {"text", "expected", "also", "lang", "topic", "kind"}, row
        assert row["kind"] in KINDS, row
        # The bot answers in English and French; danger is caught in other languages too.
        assert row["lang"] in {"en", "fr"} or row["kind"] == "crisis", row
        assert isinstance(row["text"], str) and row["text"].strip(), row
        if row["kind"] in {"out_of_scope", "near_miss"}:
            assert row["expected"] is None, row
    assert sum(r["lang"] == "fr" for r in rows) >= 20
    assert sum(r["kind"] == "crisis" for r in rows) >= 8


def test_question_set_points_at_real_entries(
    rows: list[dict[str, Any]], knowledge: KnowledgeBase
) -> None:
    ids = {e.id for e in knowledge.entries()}
    crisis_ids = {c.id for c in knowledge.crisis}
    for row in rows:
        wanted = [row["expected"], *row.get("also", [])]
        for entry_id in filter(None, wanted):
            if row["kind"] == "crisis":
                assert entry_id in crisis_ids, f"{row['text']!r}: {entry_id} is no crisis line"
            else:
                assert entry_id in ids, f"{row['text']!r} expects unknown entry {entry_id}"
        if row["topic"] is not None:
            assert row["topic"] in knowledge.topics, row


def test_question_set_covers_every_topic(
    rows: list[dict[str, Any]], knowledge: KnowledgeBase
) -> None:
    for topic in knowledge.topics:
        count = sum(r["topic"] == topic for r in rows)
        assert count >= MIN_PER_TOPIC, f"only {count} labelled questions for topic {topic}"


def test_question_set_is_not_copied_from_the_knowledge_base(
    rows: list[dict[str, Any]], knowledge: KnowledgeBase
) -> None:
    stored = {
        normalise(q)
        for entry in knowledge.entries()
        for q in all_texts(getattr(entry, "questions", None))
    }
    for row in rows:
        assert normalise(str(row["text"])) not in stored, (
            f"{row['text']!r} is a stored question variant: write a fresh wording"
        )
    texts = [normalise(str(r["text"])) for r in rows]
    duplicates = {t for t in texts if texts.count(t) > 1}
    assert not duplicates, f"labelled twice: {sorted(duplicates)}"


def test_yaml_files_are_one_per_topic() -> None:
    topics = {t["id"] for t in yaml.safe_load((KNOWLEDGE / "topics.yaml").read_text())["topics"]}
    for folder in ("services", "faqs"):
        for path in (KNOWLEDGE / folder).glob("*.yaml"):
            assert path.stem in topics, f"{folder}/{path.name} is not named after a topic"


# Names and everyday short forms a newcomer reads as words, not as acronyms to explain.
NOT_ACRONYMS = {
    "ID", "PRESTO", "GO", "VIA", "CONNECT", "TIPS", "COVID", "UK", "USA", "CV", "WISH",
    "G1", "KI", "WIN", "NOW", "ACFO", "DYHSS", "SSB", "ISA", "RC66", "RC66SCH", "RC151",
    "ASL", "LSQ",
}  # fmt: skip


def test_every_short_form_in_an_answer_is_explained(knowledge: KnowledgeBase) -> None:
    glossary = Glossary(knowledge.glossary)
    meanings = {
        lang: {localise(t.term, lang): localise(t.meaning, lang) for t in knowledge.glossary}
        for lang in ("en", "fr")
    }
    unexplained: set[str] = set()
    for entry in [*knowledge.faqs.values(), *knowledge.services.values()]:
        text = entry.answer if isinstance(entry, Faq) else entry.description
        for lang in ("en", "fr"):
            shown = glossary.explain(localise(text, lang), lang)
            for short in set(re.findall(r"\b[A-Z][A-Z0-9]{1,6}\b", shown)) - NOT_ACRONYMS:
                # Explained: "OHIP (...)", "(...) (OHIP)", or its meaning written out.
                word = re.escape(short)
                meaning = meanings[lang].get(short) or meanings[lang].get(f"{short}+")
                if not (
                    re.search(rf"\b{word}\+?\s*\(|\b{word}\)", shown)
                    or (meaning and meaning.casefold() in shown.casefold())
                ):
                    unexplained.add(f"{entry.id} ({lang}): {short}")
    assert not unexplained, "\n".join(sorted(unexplained))


# --- Amounts, dates, hours and every other number trace to a facts line (benchmarks/facts.py) --


def _fact_check() -> Any:
    name = "benchmarks_facts"
    if name not in sys.modules:
        path = PROJECT / "benchmarks" / "facts.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def test_every_amount_date_hour_and_number_is_in_the_facts(
    knowledge: KnowledgeBase, facts: str
) -> None:
    claims = _fact_check().check(knowledge, facts)
    kinds = {
        "amount": [c for c in claims if c.claim.startswith("$")],
        "hour": [c for c in claims if re.fullmatch(r"\d{1,2}:\d\d", c.claim)],
        "year": [c for c in claims if re.fullmatch(r"(19|20)\d\d", c.claim)],
    }
    for kind, found in kinds.items():
        assert found, f"the fact-check found no {kind}: it is not reading the answers"
    missing = [f"{c.entry_id}: {c.claim}" for c in claims if not c.line and not c.why]
    assert not missing, "not in durham-facts.md:\n" + "\n".join(missing)


def test_the_fact_check_fails_on_an_invented_figure(facts: str, tmp_path: Path) -> None:
    (tmp_path / "kb.yaml").write_text(
        "services:\n  - {id: cra, name: CRA}\n"
        "faqs:\n  - id: ccb\n    questions: [how much]\n"
        "    answer: The benefit is up to $9,999 a year, 9 am to 11 pm.\n"
        "    services: [cra]\n",
        encoding="utf-8",
    )
    facts_file = tmp_path / "facts.md"
    facts_file.write_text(facts, encoding="utf-8")
    module = _fact_check()
    assert module.main(["--kb", str(tmp_path), "--facts", str(facts_file)]) == 1
    shipped = ["--kb", str(KNOWLEDGE), "--facts", str(facts_file)]
    assert module.main(shipped) == 0
