"""Spreadsheets for partners: export services, FAQs and events to CSV, import them back to YAML.

One row per entry. Lists are joined with " | ", text in several languages gets one column per
language (`answer_en`, `answer_fr`), and a `file` column says which YAML file the entry lives
in. Import validates everything through the same loader the bot uses, shows what changed, and
writes only when asked. Export then import changes nothing.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.errors import UserError
from bot.knowledge.loader import load_knowledge, yaml_files
from bot.knowledge.model import Event, Faq, KnowledgeBase, Phone, Provenance, Service

KINDS: dict[str, tuple[str, type[BaseModel]]] = {
    "services": ("services.csv", Service),
    "faqs": ("faqs.csv", Faq),
    "events": ("events.csv", Event),
}
JOIN = " | "
_LANG_COLUMN = re.compile(r"^(?P<field>[a-z_]+)_(?P<lang>[a-z]{2,3})$")
_PHONE = re.compile(r"^(?P<number>.+?)(?: \((?P<label>[^()]*)\))?$")
_AMBIGUOUS = re.compile(r"[()|]")


class SpreadsheetError(UserError):
    """A CSV file that cannot be read back (a missing column, a bad cell)."""

    exit_code = 2


# -- export ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return JOIN.join(_cell(v) for v in value)
    return str(value)


def _phones(phones: list[Phone]) -> str:
    # Readable "905-420-3600 (toll-free)" unless that form could not be read back: a label
    # in several languages, or brackets or "|" inside a number or a label.
    if any(
        isinstance(p.label, dict) or _AMBIGUOUS.search(f"{p.number}{p.label or ''}") for p in phones
    ):
        return json.dumps([p.model_dump(exclude_none=True) for p in phones], ensure_ascii=False)
    return JOIN.join(f"{p.number} ({p.label})" if p.label else p.number for p in phones)


def _row(entry: BaseModel, file: str) -> dict[str, str]:
    row = {"id": str(getattr(entry, "id", "")), "file": file}
    for name in type(entry).model_fields:
        if name == "id":
            continue
        value = getattr(entry, name)
        if name == "phones":
            row[name] = _phones(value)
        elif name == "locations":
            # Sites are nested records: one JSON cell keeps them whole.
            sites = [site.model_dump(exclude_none=True, exclude_defaults=True) for site in value]
            row[name] = json.dumps(sites, ensure_ascii=False) if sites else ""
        elif isinstance(value, dict):
            for lang, text in value.items():
                row[f"{name}_{lang}"] = _cell(text)
        else:
            row[name] = _cell(value)
    return row


def _columns(model: type[BaseModel], rows: list[dict[str, str]]) -> list[str]:
    seen = {key for row in rows for key in row}
    ordered = ["id", "file"]
    # The entry's own fields first, then who keeps it and where the facts come from.
    own = [n for n in model.model_fields if n not in Provenance.model_fields]
    for name in [*own, *Provenance.model_fields]:
        if name == "id":
            continue
        ordered.append(name)
        ordered.extend(
            sorted(k for k in seen if _LANG_COLUMN.match(k) and k.rsplit("_", 1)[0] == name)
        )
    return ordered


def export(knowledge: KnowledgeBase, folder: Path) -> list[Path]:
    """Write services.csv, faqs.csv and events.csv (UTF-8 with BOM, so Excel reads accents)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    sources: dict[str, Mapping[str, Service | Faq | Event]] = {
        "services": knowledge.services,
        "faqs": knowledge.faqs,
        "events": knowledge.events,
    }
    root = Path(knowledge.root)
    for kind, (filename, model) in KINDS.items():
        rows = []
        for entry in sources[kind].values():
            location = knowledge.locations.get(entry.id)
            file = _relative(location.file, root) if location else ""
            rows.append(_row(entry, file))
        path = folder / filename
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=_columns(model, rows), restval="")
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    return written


def _relative(display: str, root: Path) -> str:
    """A file as shown in errors ("knowledge/faqs/health.yaml") relative to the folder."""
    parts = Path(display).parts
    return str(Path(*parts[1:])) if parts and parts[0] == root.name else display


# -- import ------------------------------------------------------------------------------------


def _is_list(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields.get(name)
    return info is not None and "list" in str(info.annotation)


def _value(model: type[BaseModel], name: str, text: str) -> Any:
    if name == "locations" or (name == "phones" and text.startswith("[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpreadsheetError(f"the {name} cell is not valid JSON ({exc.msg})") from exc
    if name == "phones":
        parts = [p.strip() for p in text.split(JOIN.strip()) if p.strip()]
        out: list[dict[str, str]] = []
        for part in parts:
            match = _PHONE.match(part)
            assert match is not None
            phone = {"number": match["number"].strip()}
            if match["label"]:
                phone["label"] = match["label"]
            out.append(phone)
        return out
    if _is_list(model, name) and not (
        "str |" in str(model.model_fields[name].annotation) and JOIN.strip() not in text
    ):
        return [p.strip() for p in text.split(JOIN.strip()) if p.strip()]
    return text


def _entry(model: type[BaseModel], row: dict[str, str]) -> dict[str, Any]:
    """A raw YAML-like entry from one CSV row (empty cells are left out)."""
    raw: dict[str, Any] = {}
    localised: dict[str, dict[str, Any]] = {}
    for column, text in row.items():
        if column in ("file", None) or text is None or text == "":
            continue
        if column in model.model_fields:
            raw[column] = _value(model, column, text)
            continue
        match = _LANG_COLUMN.match(column)
        if match and match["field"] in model.model_fields:
            name = match["field"]
            value = (
                [p.strip() for p in text.split(JOIN.strip()) if p.strip()]
                if _is_list(model, name)
                else text
            )
            localised.setdefault(name, {})[match["lang"]] = value
            continue
        raise SpreadsheetError(f'the column "{column}" is not a field of {model.__name__}')
    raw.update(localised)
    return raw


@dataclass
class Plan:
    """What an import would change, per kind, and the files it would write."""

    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    files: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    kinds: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        """True when the spreadsheets match the knowledge base."""
        return not (self.added or self.changed or self.removed)

    def summary(self) -> str:
        """What will change, in words."""
        if self.empty:
            return "No changes: the spreadsheets match the knowledge base."
        lines = []
        lines += [f"  added:   {entry_id}" for entry_id in self.added]
        lines += [f"  changed: {k} ({', '.join(v)})" for k, v in self.changed.items()]
        lines += [f"  removed: {entry_id}" for entry_id in self.removed]
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed:\n" + "\n".join(lines)
        )


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def plan(knowledge: KnowledgeBase, folder: Path) -> Plan:
    """Compare the CSV files in `folder` with the knowledge base."""
    result = Plan()
    current = {"services": knowledge.services, "faqs": knowledge.faqs, "events": knowledge.events}
    root = Path(knowledge.root)
    for kind, (filename, model) in KINDS.items():
        path = folder / filename
        if not path.exists():
            continue
        rows = _read_csv(path)
        result.kinds.add(kind)
        seen: set[str] = set()
        for number, row in enumerate(rows, start=2):
            entry_id = (row.get("id") or "").strip()
            if not entry_id:
                raise SpreadsheetError(f"{filename} line {number}: the id is empty")
            seen.add(entry_id)
            try:
                raw = _entry(model, row)
            except SpreadsheetError as exc:
                raise SpreadsheetError(f"{filename} line {number} [{entry_id}]: {exc}") from exc
            try:
                entry = model.model_validate(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                message = str(first["msg"]).removeprefix("Value error, ")
                raise SpreadsheetError(
                    f"{filename} line {number} [{entry_id}]: {where}: {message}"
                ) from exc
            old = current[kind].get(entry_id)
            location = knowledge.locations.get(entry_id)
            default_file = f"{kind}.yaml"
            file = row.get("file") or (_relative(location.file, root) if location else default_file)
            result.files.setdefault(file, {}).setdefault(kind, []).append(raw)
            if old is None:
                result.added.append(entry_id)
            elif old != entry:
                diff = [n for n in model.model_fields if getattr(old, n) != getattr(entry, n)]
                result.changed[entry_id] = diff
        result.removed += [entry_id for entry_id in current[kind] if entry_id not in seen]
    return result


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def apply(knowledge: KnowledgeBase, change: Plan) -> list[Path]:
    """Rewrite the YAML files the import touches, after checking the result with the loader.

    Sections not in the spreadsheets (topics, crisis, synonyms, glossary) are kept as they are. A
    rewritten file loses its comments; files without changes are not touched.
    """
    root = Path(knowledge.root)
    files = yaml_files(root)
    current = {p: yaml.safe_load(p.read_text(encoding="utf-8")) or {} for p in files}
    # Unchanged entries keep their YAML exactly as the partner wrote it.
    original = {
        str(entry.get("id")): entry
        for data in current.values()
        for kind in KINDS
        for entry in data.get(kind, []) or []
        if isinstance(entry, dict)
    }
    edited = set(change.added) | set(change.changed)
    touched: dict[Path, dict[str, Any]] = {}
    for relative in change.files:
        current.setdefault(root / relative, {})
    for path, data in current.items():
        incoming = change.files.get(str(path.relative_to(root)), {})
        new = dict(data)
        for kind in change.kinds:
            # The file's own order stands (the spreadsheet lists events by date); new
            # entries go at the end.
            position = {
                str(raw.get("id")): n
                for n, raw in enumerate(data.get(kind, []) or [])
                if isinstance(raw, dict)
            }
            ordered = sorted(
                incoming.get(kind, []), key=lambda raw: position.get(str(raw["id"]), len(position))
            )
            entries = [
                raw if str(raw["id"]) in edited else original.get(str(raw["id"]), raw)
                for raw in ordered
            ]
            if entries:
                new[kind] = entries
            else:
                new.pop(kind, None)
        if new != data:
            touched[path] = new
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / root.name
        shutil.copytree(root, copy)
        for path, data in touched.items():
            target = copy / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_dump(data), encoding="utf-8")
        load_knowledge(copy)  # raises KnowledgeError listing every problem
    for path, data in touched.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(data), encoding="utf-8")
    return sorted(touched)
