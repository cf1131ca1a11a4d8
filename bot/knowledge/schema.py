"""The JSON Schema of a knowledge-base file, for editors (autocompletion and inline errors)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.knowledge.model import CrisisLine, Event, Faq, Region, SafetyLexicon, Service, Term, Topic

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"


class Terms(BaseModel):
    """One language's cross-language terms (knowledge/terms/<code>.yaml)."""

    model_config = ConfigDict(extra="forbid")

    language: str = Field(description="The language code of the terms, like ur")
    reviewed: bool = Field(default=False, description="Checked by a native speaker")
    groups: list[list[str]] = Field(
        description="Each group starts with the English term the bot knows, then the terms "
        "in this language; a term ending in * matches words that start with it"
    )


class KnowledgeFile(BaseModel):
    """One YAML file of the knowledge base: any of these sections."""

    model_config = ConfigDict(extra="forbid", title="Welcome bot knowledge-base file")

    topics: list[Topic] = Field(default_factory=list, description="Headings to browse by")
    services: list[Service] = Field(default_factory=list, description="Organisations, programmes")
    faqs: list[Faq] = Field(default_factory=list, description="Questions with one answer")
    events: list[Event] = Field(default_factory=list, description="Community events")
    crisis: list[CrisisLine] = Field(
        default_factory=list, description="Kinds of danger: reply and contacts"
    )
    synonyms: list[list[str]] | Terms = Field(
        default_factory=list,
        description="Groups of words that mean the same; first is used (or one language's "
        "cross-language terms: knowledge/terms/)",
    )
    glossary: list[Term] = Field(
        default_factory=list, description="Short forms the bot explains once per answer"
    )
    region: Region | None = Field(
        default=None,
        description="The region profile (region.yaml): name, towns, time zone, partnership",
    )
    safety: SafetyLexicon | None = Field(
        default=None, description="One language's words for danger (knowledge/safety/)"
    )


def _one_or_many(item: dict[str, Any]) -> dict[str, Any]:
    """The loader accepts one value where a list is expected; so must the schema."""
    return {"anyOf": [item, {"type": "array", "items": item}]}


def json_schema() -> dict[str, Any]:
    """The schema as a dictionary, matching what the loader accepts."""
    schema = KnowledgeFile.model_json_schema()
    schema["$schema"] = SCHEMA_URL
    defs = schema["$defs"]
    text = {"type": "string"}
    service = defs["Service"]["properties"]
    # Phones may be written as plain text or as {number, label}.
    phone = {"anyOf": [text, {"$ref": "#/$defs/Phone"}]}
    service["phones"] = _one_or_many(phone)
    defs["Location"]["properties"]["phones"] = _one_or_many(phone)
    service["topics"] = _one_or_many(text)
    service["topic"] = {**_one_or_many(text), "description": "Same as topics"}
    service["municipalities"] = _one_or_many(text)
    for name in ("Faq", "CrisisLine"):
        defs[name]["properties"]["services"] = _one_or_many(text)
    for name in ("Service", "Faq", "Event"):
        # Unquoted numbers like 911 are fine as keywords.
        defs[name]["properties"]["keywords"] = {
            "type": "array",
            "items": {"type": ["string", "number"]},
        }
    return schema


def render() -> str:
    """The schema as indented JSON text."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
