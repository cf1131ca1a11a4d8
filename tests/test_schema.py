"""The JSON Schema for editors accepts the shipped knowledge base and flags typos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.cli.main import main
from bot.knowledge.schema import json_schema

PROJECT = Path(__file__).resolve().parent.parent


def _plain(path: Path) -> Any:
    # JSON has no dates: editors see YAML dates as text too.
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


@pytest.mark.parametrize(
    "path", sorted((PROJECT / "knowledge").rglob("*.yaml")), ids=lambda p: p.name
)
def test_shipped_files_are_valid(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    assert [e.message for e in validator.iter_errors(_plain(path))] == []


def test_typos_and_wrong_types_are_flagged() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    bad = {
        "faqs": [{"id": "x", "questions": ["q"], "answer": "a", "anwser": "b"}],
        "services": [{"id": "s", "name": "S", "phones": [{"numbr": "911"}]}],
        "faq": [],
    }
    messages = " ".join(e.message for e in validator.iter_errors(bad))
    assert "anwser" in messages and "faq" in messages
    assert len(list(validator.iter_errors(bad))) >= 3


def test_schema_command_writes_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--out", str(tmp_path / "kb.schema.json")]) == 0
    written = json.loads((tmp_path / "kb.schema.json").read_text())
    assert written["additionalProperties"] is False
    assert set(written["properties"]) == {
        "topics",
        "services",
        "faqs",
        "events",
        "crisis",
        "synonyms",
        "glossary",
        "region",
        "safety",
    }
