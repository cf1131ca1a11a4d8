"""Translations: a per-entry marker of what a native speaker checked, reported per owner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.knowledge import freshness, spreadsheet
from bot.knowledge.loader import load_knowledge
from bot.knowledge.validation import check, unreviewed_by_owner

KB = {
    "topics.yaml": """
        topics:
          - {id: health, title: {en: Health, ur: صحت}}
        """,
    "faqs.yaml": """
        faqs:
          - id: health-card
            topic: health
            questions:
              en: [how do I get a health card]
              ur: [ہیلتھ کارڈ کیسے ملے گا]
              fr: [comment obtenir une carte santé]
            answer:
              en: Apply at ServiceOntario. Bring 3 documents.
              ur: ServiceOntario میں اپلائی کریں۔ 3 دستاویزات لائیں۔
              fr: Faites la demande à ServiceOntario. Apportez 3 documents.
            reviewed: [fr]
            owner: ServiceOntario
            last_verified: 2026-11-01
          - id: sin
            topic: health
            questions: {en: [how do I get a SIN], es: [cómo obtengo el SIN]}
            answer: {en: Apply online. It is free., es: Solicítelo en línea. Es gratis.}
            owner: Service Canada
            last_verified: 2026-11-01
        """,
}
TODAY = date(2026, 12, 1)


def test_unreviewed_translations_per_owner(make_kb: Callable[[dict[str, str]], Path]) -> None:
    knowledge = load_knowledge(make_kb(KB))
    assert knowledge.faqs["health-card"].unreviewed() == ["ur"]
    assert unreviewed_by_owner(knowledge) == {
        "Service Canada": {"es": 1},
        "ServiceOntario": {"ur": 1},
    }
    messages = [p.message for p in check(knowledge, TODAY) if "native speaker" in p.message]
    assert any(m.startswith("ServiceOntario:") and "ur (1)" in m for m in messages)
    due = {d.entry_id: d.reason for d in freshness.due(knowledge, TODAY, translations=True)}
    assert due == {
        "health-card": "translations not reviewed: ur",
        "sin": "translations not reviewed: es",
    }
    # The digest and partner lists are about facts going out of date, not translations.
    assert freshness.due(knowledge, TODAY) == []


def test_reviewed_marker_survives_the_spreadsheet(
    tmp_path: Path, make_kb: Callable[[dict[str, str]], Path]
) -> None:
    kb = make_kb(KB)
    knowledge = load_knowledge(kb)
    spreadsheet.export(knowledge, tmp_path / "csv")
    assert "reviewed" in (tmp_path / "csv" / "faqs.csv").read_text(encoding="utf-8-sig")
    change = spreadsheet.plan(knowledge, tmp_path / "csv")
    assert change.empty, change.summary()


def test_shipped_translations_are_unreviewed() -> None:
    knowledge = load_knowledge(Path(__file__).resolve().parent.parent / "knowledge")
    new = {"hi", "ur", "pa", "ta", "tl", "fa", "zh", "ar", "es", "uk"}
    translated = [f for f in knowledge.faqs.values() if new & f.translations()]
    assert len(translated) >= 40
    for faq in translated:
        assert not (new & set(faq.reviewed)), faq.id
        assert new <= set(faq.unreviewed()), faq.id
