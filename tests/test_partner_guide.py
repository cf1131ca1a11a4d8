"""The partner guide's examples are real: every YAML block in knowledge/README.md validates."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.knowledge.loader import load_directory
from bot.knowledge.model import localise

PROJECT = Path(__file__).resolve().parent.parent
GUIDE = PROJECT / "knowledge" / "README.md"
SECTIONS = (
    "topics:",
    "services:",
    "faqs:",
    "events:",
    "crisis:",
    "synonyms:",
    "glossary:",
    "region:",
)
# Entries the examples link to, which the guide does not show in full.
STUBS = """
topics:
  - {id: language, title: Language}
services:
  - {id: crisis-988, name: 988 Suicide Crisis Helpline, phones: ["988"]}
"""


def test_every_example_in_the_guide_is_valid(make_kb: Callable[[dict[str, str]], Path]) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    examples = [b for b in blocks if b.lstrip().startswith(SECTIONS)]
    assert len(examples) == 10
    files = {f"example{i}.yaml": text for i, text in enumerate(examples)}
    kb = make_kb({**files, "stubs.yaml": STUBS})
    result = load_directory(kb, today=date(2026, 11, 24))
    assert result.ok, [str(p) for p in result.errors]
    knowledge = result.knowledge
    assert knowledge is not None
    assert set(knowledge.faqs) == {"free-english-classes"}
    assert knowledge.services["durham-continuing-education"].phones[0].label == "main line"
    assert knowledge.services["druhc"].locations[0].municipality == "Pickering"
    assert [localise(t.term, "fr") for t in knowledge.glossary] == ["OHIP", "NAS"]
    # The guide's region is the shipped one.
    shipped = load_directory(PROJECT / "knowledge" / "region.yaml").knowledge
    assert shipped is not None
    assert knowledge.region == shipped.region


def test_the_guide_names_the_commands_that_exist() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for command in ("validate", "schema --out", "export --format csv", "import", "freshness"):
        assert f"run_bot.py {command}" in text
