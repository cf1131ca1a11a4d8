"""The loader: every error kind is reported with file, line, column and entry id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge.loader import KnowledgeError, load_directory, load_knowledge
from bot.knowledge.model import Event, Faq, check_phone, localise
from bot.replies.cards import HTML, Cards
from bot.replies.messages import Catalogue
from tests.conftest import REGION_YAML, SITES_KB

MakeKb = Callable[[dict[str, str]], Path]


def errors_of(kb: Path) -> list[str]:
    result = load_directory(kb, today=date(2026, 11, 24))
    assert result.knowledge is None, "expected the knowledge base to be refused"
    return [str(p) for p in result.errors]


def test_small_kb_loads(small_kb: Path) -> None:
    kb = load_knowledge(small_kb)
    assert set(kb.faqs) == {"health-card", "sin-number", "english-classes"}
    assert kb.services["serviceontario"].phones[0].number == "1-800-267-8097"
    assert kb.topics["health"].title == {"en": "Health", "fr": "Santé"}
    assert kb.synonyms[0][0] == "ohip"
    assert kb.crisis[0].category == "self_harm"
    assert str(kb.locations["sin-number"]).startswith("kb/faqs.yaml:")


def test_minimal_form_is_a_valid_knowledge_base(make_kb: MakeKb) -> None:
    kb = load_knowledge(
        make_kb({"only.yaml": "faqs: [{id: hello, questions: [hi there], answer: Hello!}]"})
    )
    faq = kb.faqs["hello"]
    assert isinstance(faq, Faq)
    assert localise(faq.answer, "fr") == "Hello!"


def test_yaml_files_are_found_recursively(make_kb: MakeKb) -> None:
    kb = load_knowledge(
        make_kb(
            {
                "a/one.yaml": "faqs: [{id: one, questions: [q1], answer: a1}]",
                "b/c/two.yml": "faqs: [{id: two, questions: [q2], answer: a2}]",
                "notes.txt": "not yaml",
            }
        )
    )
    assert set(kb.faqs) == {"one", "two"}


def test_unknown_key_suggests_the_right_one(make_kb: MakeKb) -> None:
    kb = make_kb({"s.yaml": "services:\n  - id: x\n    name: X\n    websit: https://example.org\n"})
    assert errors_of(kb) == [
        'kb/s.yaml:4:5: [x] "websit" is not a field this entry can have. Did you mean "website"?'
    ]


def test_unknown_section_is_an_error(make_kb: MakeKb) -> None:
    kb = make_kb({"s.yaml": "faq:\n  - id: x\n"})
    (error,) = errors_of(kb)
    assert error.startswith("kb/s.yaml:1:1:")
    assert 'Did you mean "faqs"?' in error


def test_duplicate_ids_across_files(make_kb: MakeKb) -> None:
    kb = make_kb(
        {
            "a.yaml": "faqs: [{id: same, questions: [q], answer: a}]",
            "b.yaml": "faqs:\n  - id: same\n    questions: [q]\n    answer: a\n",
        }
    )
    (error,) = errors_of(kb)
    assert error.startswith("kb/b.yaml:2:")
    assert 'the id "same" is already used at kb/a.yaml:1:' in error


def test_links_to_missing_ids_with_suggestion(make_kb: MakeKb) -> None:
    kb = make_kb(
        {
            "a.yaml": (
                "topics: [{id: health, title: Health}]\n"
                "services: [{id: clinic, name: Clinic, topics: [health]}]\n"
                "faqs:\n"
                "  - id: f\n"
                "    topic: helth\n"
                "    questions: [q]\n"
                "    answer: a\n"
                "    services: [clinc]\n"
            )
        }
    )
    assert errors_of(kb) == [
        'kb/a.yaml:5:12: [f] there is no topic with the id "helth". Did you mean "health"?',
        'kb/a.yaml:8:16: [f] there is no service with the id "clinc". Did you mean "clinic"?',
    ]


def test_a_broken_service_does_not_also_break_links_to_it(make_kb: MakeKb) -> None:
    kb = make_kb(
        {
            "a.yaml": (
                "services: [{id: clinic, name: Clinic, email: not-an-email}]\n"
                "faqs: [{id: f, questions: [q], answer: a, services: [clinic]}]\n"
            )
        }
    )
    (error,) = errors_of(kb)
    assert "not-an-email" in error
    assert error.startswith("kb/a.yaml:1:")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("last_verified", "2026-13-01", "should be a date written as YYYY-MM-DD"),
        ("last_verified", "yesterday", "should be a date written as YYYY-MM-DD"),
        ("website", "www.example.org", "is not a web address"),
        ("website", "https://exa mple.org", "is not a web address"),
        ("email", "someone@", "is not an email address"),
        ("phones", '["905 668 77l1"]', "has the letter l where a digit should be"),
        ("phones", '["905-668-771"]', "has 9 digits"),
        ("municipalities", "[Toronto]", "is not one of the municipalities in region.yaml"),
        ("id", "Bad Id", "is not a usable id"),
    ],
)
def test_field_errors_are_explained(make_kb: MakeKb, field: str, value: str, expected: str) -> None:
    entry = {"id": "svc", "name": "Service", field: value}
    body = "\n".join(f"    {k}: {v}" for k, v in entry.items() if k != "id")
    kb = make_kb(
        {"s.yaml": f"services:\n  - id: {entry['id']}\n{body}\n", "region.yaml": REGION_YAML}
    )
    (error,) = errors_of(kb)
    assert expected in error
    line = 2 if field == "id" else 4
    assert error.startswith(f"kb/s.yaml:{line}:")


def test_missing_required_fields(make_kb: MakeKb) -> None:
    kb = make_kb({"f.yaml": "faqs:\n  - id: f\n    questions: [q]\n"})
    assert errors_of(kb) == ['kb/f.yaml:2:5: [f] this entry needs "answer"']


def test_event_ending_before_it_starts(make_kb: MakeKb) -> None:
    kb = make_kb(
        {
            "e.yaml": (
                "events:\n  - id: party\n    title: Party\n"
                "    start: 2026-12-05 18:00\n    end: 2026-12-04 10:00\n"
            )
        }
    )
    (error,) = errors_of(kb)
    assert error.startswith("kb/e.yaml:2:5: [party]")
    assert "ends (2026-12-04 10:00) before it starts (2026-12-05 18:00)" in error


def test_event_times_are_toronto_time(make_kb: MakeKb) -> None:
    kb = load_knowledge(
        make_kb(
            {
                "e.yaml": "events: [{id: e, title: E, start: '2026-12-05 18:00'}]",
                "region.yaml": REGION_YAML,
            }
        )
    )
    event = kb.events["e"]
    assert isinstance(event, Event)
    assert event.start.utcoffset() is not None
    assert event.start.utcoffset().total_seconds() == -5 * 3600  # EST in December


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("faqs:\n  - id: x\n\tquestions: [a]\n", "tab character"),
        ("faqs:\n  - id: x\n    answer: Open: 9 to 5\n", "put the whole text in quotes"),
        ("faqs:\n  - id: x\n    answer: 'not closed\n", "quote"),
        ("faqs:\n  - id: x\n   questions: [a]\n", "indentation"),
    ],
)
def test_yaml_syntax_errors_are_explained(make_kb: MakeKb, text: str, advice: str) -> None:
    (error,) = errors_of(make_kb({"bad.yaml": text}))
    assert error.startswith("kb/bad.yaml:")
    assert advice in error
    assert "yaml.scanner" not in error


def test_all_errors_in_one_run(make_kb: MakeKb) -> None:
    kb = make_kb(
        {
            "a.yaml": "faqs: [{id: a, questions: [q]}]",
            "b.yaml": "faqs: [{id: b, answer: x}]",
            "c.yaml": "faqs:\n\t- broken",
        }
    )
    files = {error.split(":")[0] for error in errors_of(kb)}
    assert files == {"kb/a.yaml", "kb/b.yaml", "kb/c.yaml"}


def test_duplicate_keys_are_errors(make_kb: MakeKb) -> None:
    kb = make_kb({"a.yaml": "faqs:\n  - id: a\n    questions: [q]\n    answer: x\n    answer: y\n"})
    (error,) = errors_of(kb)
    assert error.startswith("kb/a.yaml:5:")
    assert '"answer" is written twice' in error


def test_stale_entries_are_warnings_not_errors(make_kb: MakeKb) -> None:
    kb = make_kb(
        {
            "a.yaml": "faqs: [{id: a, questions: [q], answer: x, last_verified: 2024-01-01}]",
            "region.yaml": REGION_YAML,
        }
    )
    result = load_directory(kb, today=date(2026, 11, 24))
    assert result.ok
    (warning,) = result.warnings
    assert "not verified for over a year" in str(warning)


def test_missing_folder_and_empty_folder(tmp_path: Path) -> None:
    assert "does not exist" in str(load_directory(tmp_path / "nope").errors[0])
    with pytest.raises(KnowledgeError, match=r"no \.yaml files"):
        load_knowledge(tmp_path)


@pytest.mark.parametrize(
    "number",
    [
        "905-668-7711",
        "1-800-372-1102",
        "+1 (905) 420-3600",
        "911",
        "988",
        "905-668-4113 ext 5510",
        "1-800-222-TIPS",
        "686868",
    ],
)
def test_valid_phone_numbers(number: str) -> None:
    assert check_phone(number) == number


def test_a_service_can_have_several_sites(make_kb: MakeKb) -> None:
    (site,) = load_knowledge(make_kb({"s.yaml": SITES_KB})).services["jobs-centre"].locations
    assert site.address == "1400 Bayly Street, Unit 12, Pickering ON"
    assert [p.number for p in site.phones] == ["905-420-4010", "1-800-361-4642"]
    assert site.municipality == "Pickering"


def test_a_bad_site_is_reported_at_its_line(make_kb: MakeKb) -> None:
    broken = SITES_KB.replace('"905-420-4010"', '"call us"').replace("Pickering\n", "Pickring\n")
    errors = errors_of(make_kb({"s.yaml": broken, "region.yaml": REGION_YAML}))
    assert any(e.startswith("kb/s.yaml:9:") and "call us" in e for e in errors), errors
    assert any(e.startswith("kb/s.yaml:11:") and "Pickring" in e for e in errors), errors


def test_each_site_gets_its_own_contact_lines(make_kb: MakeKb) -> None:
    cards = Cards(load_knowledge(make_kb({"s.yaml": SITES_KB})), Catalogue.load())
    plain = cards.entry("jobs-centre", "en")
    main_site, other = plain.split("🏢 ")
    assert "905-579-1821" in main_site and "905-420-4010" not in main_site
    assert other.startswith("Pickering centre\n   📞 Phone: 905-420-4010")
    assert "   📞 Phone: 1-800-361-4642 (toll-free)" in other
    assert "   🕒 Hours: Monday to Friday, 9 to 5" in other
    html = cards.entry("jobs-centre", "fr", HTML)
    assert "🏢 <b>Centre de Pickering</b>" in html
    assert "query=1400+Bayly+Street" in html  # the site's address has its own map link


def test_a_duplicate_id_is_reported_with_the_entrys_other_error(make_kb: MakeKb) -> None:
    kb = make_kb(
        {
            "a.yaml": "faqs: [{id: same, questions: [q], answer: a}]",
            "b.yaml": "faqs:\n  - id: same\n    questions: [q]\n    answr: a\n",
        }
    )
    errors = errors_of(kb)
    assert any('the id "same" is already used at kb/a.yaml:1:' in e for e in errors)
    assert any("answr" in e for e in errors)
    assert len(errors) >= 2


def test_one_languages_terms_load_with_their_review_mark(make_kb: MakeKb) -> None:
    terms = (
        "synonyms:\n  language: es\n  reviewed: false\n  groups:\n"
        "    - [doctor, médico*, doctora]\n    - [food bank, banco de comida]\n"
    )
    kb = load_knowledge(make_kb({"t.yaml": terms, "f.yaml": "faqs: []\n"}))
    assert ["doctor", "médico*", "doctora"] in [list(g) for g in kb.synonyms]


def test_a_stem_too_short_or_a_stray_key_is_an_error_with_its_line(make_kb: MakeKb) -> None:
    kb = make_kb(
        {
            "t.yaml": "synonyms:\n  language: es\n  groups:\n    - [doctor, médico]\n"
            "    - [bus, bu*]\n",
            "u.yaml": "synonyms:\n  language: es\n  checked: yes\n  groups: []\n",
        }
    )
    errors = errors_of(kb)
    short = next(e for e in errors if e.startswith("kb/t.yaml"))
    assert short.startswith("kb/t.yaml:5:") and '"bu*"' in short and "3 letters" in short
    stray = next(e for e in errors if e.startswith("kb/u.yaml"))
    assert "reviewed (true or false)" in stray
