"""Read a knowledge-base directory of YAML files into a validated KnowledgeBase.

The bot, the `validate` command and the tests all load through `load_directory`, so a partner
sees exactly the errors the bot would refuse to start with, each with file, line and entry.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import yaml
from pydantic import BaseModel, ValidationError

from bot.errors import UserError
from bot.knowledge.freshness import STALE_AFTER_DAYS, is_stale, stale_period
from bot.knowledge.memo import Memo
from bot.knowledge.model import (
    DEFAULT_REGION,
    CrisisLine,
    Event,
    Faq,
    KnowledgeBase,
    Region,
    SafetyLexicon,
    Service,
    SourceLocation,
    Term,
    Topic,
)

SECTIONS: dict[str, type[BaseModel]] = {
    "topics": Topic,
    "services": Service,
    "faqs": Faq,
    "events": Event,
    "crisis": CrisisLine,
}
ALL_SECTIONS = (*SECTIONS, "synonyms", "glossary", "region", "safety")
AnyEntry = Topic | Service | Faq | Event | CrisisLine

Path_ = tuple[str | int, ...]
# Where a node starts in its file: (line, column), counted from 0 as PyYAML does.
Position = tuple[int, int]


def _shown(position: Position | None) -> tuple[int, int]:
    """A position as people count: line and column from 1 (1, 1 when unknown)."""
    return (position[0] + 1, position[1] + 1) if position else (1, 1)


One = TypeVar("One", bound=BaseModel)


@dataclass(frozen=True, order=True)
class Problem:
    """One error or warning, addressed to the person who edits the file."""

    file: str
    line: int
    column: int
    message: str
    entry_id: str | None = None
    severity: Literal["error", "warning"] = "error"
    snippet: str = field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        entry = f" [{self.entry_id}]" if self.entry_id else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}:{entry} {prefix}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly form for tools."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "entry_id": self.entry_id,
            "severity": self.severity,
            "message": self.message,
        }


class KnowledgeError(UserError):
    """The knowledge base has errors; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"the knowledge base has {len(problems)} error(s):\n{lines}")

    @property
    def missing_folder(self) -> Path | None:
        """The folder, when the only problem is that it does not exist (a usage mistake)."""
        missing = [p for p in self.problems if p.message.endswith("folder does not exist")]
        return Path(missing[0].file) if missing and len(self.problems) == 1 else None

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return 2 if self.missing_folder is not None else 1

    def report(self, program: str) -> str:
        """Every problem on its own line, then what to do."""
        if self.missing_folder is not None:
            return (
                f"{program}: error: no knowledge base at {self.missing_folder}; "
                "give one with --kb FOLDER (or BOT_KB)"
            )
        return "\n".join(
            [
                *(str(problem) for problem in self.problems),
                f"{program}: the knowledge base has {len(self.problems)} error(s); "
                "run `validate` for details",
            ]
        )


@dataclass
class LoadResult:
    """What loading found: the knowledge base when it is valid, and every problem."""

    knowledge: KnowledgeBase | None
    errors: list[Problem]
    warnings: list[Problem]
    files: list[str]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings are allowed)."""
        return self.knowledge is not None and not self.errors


# libyaml's parser is several times faster and keeps the same line marks; PyYAML's own
# parser is the fallback where libyaml is missing.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _MarkedLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader that leaves dates as text, so a bad date is a friendly error, not a crash."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class attribute, replaced whole
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


class _Document:
    """One walk over a composed YAML file: the data, every node's position, duplicate keys.

    PyYAML's own constructor walks the nodes a second time in slow Python (about a third of
    `validate`'s 0.12 s of loading); text, lists and mappings are built here directly, and only
    the rare other scalars (numbers, true/false) go through PyYAML's constructor.
    """

    def __init__(self, loader: yaml.SafeLoader, marks: dict[Path_, Position]) -> None:
        self.loader = loader
        self.marks = marks
        self.duplicates: list[str] = []

    def build(self, node: yaml.Node, path: Path_ = ()) -> Any:
        """The Python value of `node`, recording positions under `path`."""
        self.marks[path] = (node.start_mark.line, node.start_mark.column)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return node.value
            return self.loader.construct_object(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if any(key_node.tag == _MERGE for key_node, _ in node.value):
                # A merge key (`<<: *defaults`): rare in a knowledge base; PyYAML resolves it.
                self._record(node, path)
                return self.loader.construct_object(node, deep=True)
            data: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                name = key_node.value
                key = self.build(key_node, (*path, name, "__key__"))
                if key in data:
                    self.duplicates.append(f"{key_node.start_mark.line + 1}:{name}")
                data[key] = self.build(value_node, (*path, name))
            return data
        return self.loader.construct_object(node, deep=True)

    def _record(self, node: yaml.Node, path: Path_) -> None:
        """Positions only, for a subtree PyYAML constructs."""
        self.marks[path] = (node.start_mark.line, node.start_mark.column)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                mark = key_node.start_mark
                self.marks[(*path, key_node.value, "__key__")] = (mark.line, mark.column)
                self._record(value_node, (*path, key_node.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._record(item, (*path, index))


def _explain_yaml_error(exc: yaml.MarkedYAMLError, text: str) -> str:
    """Turn a parser message into advice a non-programmer can act on."""
    problem = (exc.problem or "").lower()
    mark = exc.problem_mark
    line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    if "\t" in line or "found character '\\t'" in problem:
        return "this line has a tab character: YAML needs spaces for indentation, not tabs"
    if "mapping values are not allowed" in problem:
        return (
            "there is a colon (:) where YAML did not expect one; if the text itself contains "
            'a colon, put the whole text in quotes, like answer: "Open: 9 to 5"'
        )
    if (
        "expected <block end>" in problem
        or "bad indentation" in problem
        or "did not find expected '-'" in problem
        or "did not find expected key" in problem
    ):
        return "the indentation is off: line this up with the lines above it, using spaces"
    if "found undefined alias" in problem:
        return "a '*' starts this value; put the text in quotes"
    if "could not find expected ':'" in problem:
        return "a line is missing its colon (write it as key: value), or a quote is not closed"
    if "found unexpected end of stream" in problem or "while scanning a quoted scalar" in str(
        exc.context
    ):
        return "a quote (\" or ') is opened but never closed"
    detail = exc.problem or str(exc)
    return f"this is not valid YAML ({detail})"


_FRIENDLY_TYPES = {
    "string_type": "should be text",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "list_type": "should be a list (lines starting with '- ')",
    "dict_type": "should be a group of 'key: value' lines",
    "model_type": "should be a group of 'key: value' lines",
    "date_type": "should be a date written as YYYY-MM-DD, like 2026-11-24",
    "date_parsing": "should be a date written as YYYY-MM-DD, like 2026-11-24",
    "date_from_datetime_parsing": "should be a date written as YYYY-MM-DD, like 2026-11-24",
    "date_from_datetime_inexact": "should be a date without a time, like 2026-11-24",
    "datetime_type": "should be a date and time, like 2026-12-05 18:00",
    "datetime_parsing": "should be a date and time, like 2026-12-05 18:00",
    "datetime_from_date_parsing": "should be a date and time, like 2026-12-05 18:00",
    "too_short": "needs more items",
}


def _friendly(err: Any, model: type[BaseModel], loc: Path_) -> str:
    """Explain one pydantic error in plain words."""
    kind = err["type"]
    name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "extra_forbidden":
        fields = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(name, fields, n=1, cutoff=0.6)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        return f'"{name}" is not a field this entry can have.{hint}'
    if kind == "missing":
        return f'this entry needs "{name}"'
    if kind in ("value_error", "assertion_error"):
        message = str(err.get("ctx", {}).get("error", err["msg"]))
        return message[0].upper() + message[1:] if message else err["msg"]
    if kind == "literal_error":
        return f'"{name}" must be one of: {err.get("ctx", {}).get("expected", "")}'
    friendly = _FRIENDLY_TYPES.get(kind)
    if friendly:
        return f'"{name}" {friendly}' if name else friendly[0].upper() + friendly[1:]
    return f'"{name}": {err["msg"]}' if name else str(err["msg"])


def _fields_at(model: type[BaseModel], loc: Path_) -> list[str]:
    """The allowed field names where a stray key was found (for "did you mean")."""
    current: type[BaseModel] = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(str(part))
        annotation = getattr(info, "annotation", None)
        nested = _first_model(annotation)
        if nested is None:
            break
        current = nested
    return [*current.model_fields, *(["topic"] if current is Service else [])]


def _first_model(annotation: Any) -> type[BaseModel] | None:
    """Find a model class inside an annotation like list[Phone]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    for meta in getattr(annotation, "__metadata__", ()) or ():
        found = _first_model(meta)
        if found is not None:
            return found
    return None


_UNION_LABELS = {"str", "list", "dict", "int", "bool", "constrained-str", "date", "datetime"}


def _clean_loc(loc: tuple[Any, ...]) -> Path_:
    """Drop pydantic's union-branch labels ("str", "dict[...]") from an error location."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif (isinstance(part, str) and ("[" in part or part in _UNION_LABELS)) or (
            isinstance(part, str) and part.startswith("function-")
        ):
            continue
        else:
            out.append(part)
    return tuple(out)


class _FileReader:
    """Parses one YAML file and validates its sections, collecting every problem."""

    def __init__(self, path: Path, display: str, region: Region | None = None) -> None:
        self.path = path
        self.display = display
        # Municipalities and local times are checked against the region profile.
        self.region = region
        self.problems: list[Problem] = []
        # Where each node starts: (line, column), counted from 0 as PyYAML does.
        self.marks: dict[Path_, Position] = {}
        self.lines: list[str] = []
        # Ids of entries written here, valid or not, so one bad entry does not also
        # break every link to it.
        self.declared: dict[str, set[str]] = {}
        # Every id given, valid entry or not, in file order: a duplicate is reported even when
        # one of the two entries has another error (every problem in one pass).
        self.declared_at: list[tuple[str, int, str]] = []

    def problem(
        self, path: Path_, message: str, entry_id: str | None = None, key: bool = False
    ) -> None:
        """Record an error at the closest known position of a path."""
        mark = None
        if key and path:
            mark = self.marks.get((*path, "__key__"))
        probe = path
        while mark is None and probe:
            mark = self.marks.get(probe)
            probe = probe[:-1]
        line, column = _shown(mark)
        snippet = self.lines[line - 1].rstrip() if 0 < line <= len(self.lines) else ""
        self.problems.append(
            Problem(self.display, line, column, message, entry_id, snippet=snippet)
        )

    def read(self, memo: Memo | None = None) -> dict[str, Any] | None:
        """The file's top-level mapping, or None after recording why it cannot be read.
        A file parsed before with the very same text comes from `memo`."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.problem((), "this file is not saved as UTF-8 text; save it again as UTF-8")
            return None
        except OSError as exc:
            self.problem((), f"this file cannot be read ({exc.strerror})")
            return None
        self.lines = text.splitlines()
        kept = memo.get("yaml", text) if memo is not None else None
        if kept is not None:
            data, self.marks, duplicates = kept
        else:
            parsed = self._parse(text)
            if parsed is None:
                return None
            data, duplicates = parsed
            if memo is not None:
                memo.put("yaml", text, (data, self.marks, duplicates))
        return self._checked(data, duplicates)

    def _parse(self, text: str) -> tuple[Any, list[str]] | None:
        """The file's data and its duplicate keys (positions go to self.marks), or None."""
        loader = _MarkedLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return {}, []
            document = _Document(loader, self.marks)
            return document.build(node), document.duplicates
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            column = mark.column + 1 if mark else 1
            snippet = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
            self.problems.append(
                Problem(self.display, line, column, _explain_yaml_error(exc, text), snippet=snippet)
            )
            return None
        except yaml.YAMLError as exc:
            self.problem((), f"this is not valid YAML ({exc})")
            return None
        finally:
            loader.dispose()

    def _checked(self, data: Any, duplicates: list[str]) -> dict[str, Any] | None:
        """The top-level mapping after the file-wide checks (duplicate keys, sections)."""
        for duplicate in duplicates:
            line_no, key = duplicate.split(":", 1)
            self.problems.append(
                Problem(
                    self.display,
                    int(line_no),
                    1,
                    f'"{key}" is written twice in the same entry; keep only one',
                )
            )
        if not isinstance(data, dict):
            self.problem((), "the file must start with a section name, like 'faqs:' or 'services:'")
            return None
        for key in data:
            if key not in ALL_SECTIONS:
                close = difflib.get_close_matches(str(key), ALL_SECTIONS, n=1, cutoff=0.6)
                hint = f' Did you mean "{close[0]}"?' if close else ""
                self.problem(
                    (key,),
                    f'"{key}" is not a section; sections are {", ".join(ALL_SECTIONS)}.{hint}',
                    key=True,
                )
        return data

    def entries(self, data: dict[str, Any], section: str) -> list[tuple[AnyEntry, int]]:
        """Validate each entry of one section; bad entries are reported and left out."""
        model = SECTIONS[section]
        return [
            (cast(AnyEntry, entry), index) for entry, index in self._valid(data, section, model)
        ]

    def glossary(self, data: dict[str, Any]) -> list[Term]:
        """Validate the glossary's terms (they have no ids: nothing links to them)."""
        return [cast(Term, term) for term, _ in self._valid(data, "glossary", Term)]

    def safety(self, data: dict[str, Any]) -> SafetyLexicon | None:
        """Validate a safety lexicon (one language's words for danger), if the file has one."""
        return self._section(data, "safety", SafetyLexicon)

    def _section(self, data: dict[str, Any], section: str, model: type[One]) -> One | None:
        """Validate a section that is one group of "key: value" lines (a lexicon, the region)."""
        raw = data.get(section)
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.problem((section,), f'"{section}" should be a group of "key: value" lines')
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            self._report(exc, (section,), model)
            return None

    def _report(
        self,
        exc: ValidationError,
        where: Path_,
        model: type[BaseModel],
        entry_id: str | None = None,
    ) -> None:
        """Every distinct problem of a validation error, at its line. A union (text, or text
        per language) fails once per branch: each place is said once."""
        reported: set[Path_] = set()
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            if loc in reported:
                continue
            reported.add(loc)
            self.problem(
                (*where, *loc),
                _friendly(err, model, loc),
                entry_id,
                key=err["type"] in ("extra_forbidden", "literal_error"),
            )

    def _valid(
        self, data: dict[str, Any], section: str, model: type[BaseModel]
    ) -> list[tuple[BaseModel, int]]:
        items = data.get(section)
        if items is None:
            return []
        if not isinstance(items, list):
            self.problem((section,), f'"{section}" should be a list of entries, each starting "- "')
            return []
        out: list[tuple[BaseModel, int]] = []
        for index, raw in enumerate(items):
            entry_id = raw.get("id") if isinstance(raw, dict) else None
            entry_id = str(entry_id) if entry_id is not None else None
            if entry_id:
                self.declared.setdefault(section, set()).add(entry_id)
                self.declared_at.append((section, index, entry_id))
            try:
                out.append((model.model_validate(raw, context={"region": self.region}), index))
            except ValidationError as exc:
                self._report(exc, (section, index), model, entry_id)
        return out

    def region_profile(self, data: dict[str, Any]) -> Region | None:
        """Validate the region profile, when this file has one."""
        return self._section(data, "region", Region)

    def synonyms(self, data: dict[str, Any]) -> list[list[str]]:
        """Validate the synonym groups: each a list of two or more terms."""
        groups = data.get("synonyms")
        if groups is None:
            return []
        where: tuple[str, ...] = ("synonyms",)
        if isinstance(groups, dict):
            # One language's cross-language terms (knowledge/terms/<code>.yaml): the groups,
            # with the language and whether a native speaker has checked them, as in the
            # safety lexicons.
            extra = set(groups) - {"language", "reviewed", "groups"}
            if extra or not isinstance(groups.get("reviewed", False), bool):
                self.problem(
                    where,
                    '"synonyms" as a mapping holds language (a code), reviewed (true or '
                    "false) and groups (a list of groups, like - [doctor, médico])",
                )
                return []
            groups, where = groups.get("groups"), ("synonyms", "groups")
        if not isinstance(groups, list):
            self.problem(where, '"synonyms" should be a list of groups, like - [OHIP, health card]')
            return []
        out: list[list[str]] = []
        for index, item in enumerate(groups):
            group = (
                item["terms"]
                if isinstance(item, dict) and isinstance(item.get("terms"), list)
                else item
            )
            if (
                not isinstance(group, list)
                or len(group) < 2
                or not all(isinstance(t, str | int) and str(t).strip() for t in group)
            ):
                self.problem(
                    (*where, index),
                    "a synonym group is a list of two or more words that mean the same, "
                    "like [OHIP, health card]",
                )
                continue
            terms = [str(t).strip() for t in group]
            short = [t for t in terms if _short_stem(t)]
            if short:
                self.problem(
                    (*where, index),
                    f'"{short[0]}": a term ending in * matches every word that starts with it, '
                    "so it needs at least 3 letters before the *",
                )
                continue
            out.append(terms)
        return out


def _short_stem(term: str) -> bool:
    """A term ending in * whose last word has fewer than 3 letters before the * (it would
    match too many words: "de*" is half of Spanish). Counted on the raw text: normalising
    here would build the accent tables that `validate` otherwise never needs (50 ms)."""
    if not term.endswith("*"):
        return False
    words = term[:-1].split()
    return not words or sum(ch.isalpha() for ch in words[-1]) < 2 or len(words[-1]) < 3


def yaml_files(root: Path) -> list[Path]:
    """The knowledge base's files: `root` itself, or every .yaml/.yml file below it, sorted.
    The loader, the reload watcher and the spreadsheet import all walk the folder with this."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_directory(
    root: str | Path,
    *,
    today: date | None = None,
    now: datetime | None = None,
    stale_after_days: int = STALE_AFTER_DAYS,
    memo: Memo | None = None,
) -> LoadResult:
    """Load every YAML file under `root` (or one file), check links, and report all problems.
    With a `memo`, a file whose text was parsed before is not parsed again (`validate`)."""
    base = Path(root)
    errors: list[Problem] = []
    warnings: list[Problem] = []
    if not base.exists():
        problem = Problem(str(base), 1, 1, "this knowledge-base folder does not exist")
        return LoadResult(None, [problem], [], [])
    files = yaml_files(base)
    if not files:
        problem = Problem(str(base), 1, 1, "this folder has no .yaml files")
        return LoadResult(None, [problem], [], [])

    # The region profile first: every other file's towns and local times are read against it.
    parsed: list[tuple[_FileReader, dict[str, Any] | None]] = []
    region: Region | None = None
    region_file = ""
    for path in files:
        display = str(path.relative_to(base.parent)) if base.is_dir() else str(path)
        reader = _FileReader(path, display)
        data = reader.read(memo)
        parsed.append((reader, data))
        if data is None or "region" not in data:
            continue
        if region_file:
            reader.problem(
                ("region",),
                f"the region is already described in {region_file}; keep only one",
                key=True,
            )
            continue
        region_file = display
        region = reader.region_profile(data)
    if not region_file:
        warnings.append(
            Problem(
                str(base),
                1,
                1,
                'there is no region.yaml: the bot says "your area" for the region\'s name, '
                "accepts any town name and tells time in UTC",
                severity="warning",
            )
        )
    profile = region or DEFAULT_REGION
    today = today or datetime.now(profile.zone).date()
    now = now or datetime.now(profile.zone)

    collected: dict[str, list[Any]] = {name: [] for name in SECTIONS}
    synonyms: list[list[str]] = []
    glossary: list[Term] = []
    lexicons: list[tuple[SafetyLexicon, _FileReader]] = []
    lexicon_files: dict[str, str] = {}
    locations: dict[str, SourceLocation] = {}
    readers: dict[str, tuple[_FileReader, Path_]] = {}
    displays: list[str] = []
    all_readers: list[_FileReader] = []
    first_seen: dict[str, str] = {}  # id -> where it was first given, valid or not
    for reader, data in parsed:
        reader.region = profile
        displays.append(reader.display)
        all_readers.append(reader)
        if data is not None:
            for section in SECTIONS:
                for entry, index in reader.entries(data, section):
                    entry_id = entry.id
                    where: Path_ = (section, index)
                    if entry_id in readers:
                        continue  # a duplicate: reported below with the invalid ones
                    locations[entry_id] = SourceLocation(
                        reader.display, *_shown(reader.marks.get(where))
                    )
                    readers[entry_id] = (reader, where)
                    collected[section].append(entry)
            synonyms += reader.synonyms(data)
            glossary += reader.glossary(data)
            for section, index, entry_id in reader.declared_at:
                line, column = _shown(reader.marks.get((section, index)))
                here = f"{reader.display}:{line}:{column}"
                first = first_seen.setdefault(entry_id, here)
                if first != here:
                    reader.problem(
                        (section, index, "id"),
                        f'the id "{entry_id}" is already used at {first}; ids must be unique',
                        entry_id,
                    )
            lexicon = reader.safety(data)
            if lexicon is not None:
                if lexicon.language in lexicon_files:
                    reader.problem(
                        ("safety", "language"),
                        f'the language "{lexicon.language}" already has a safety lexicon in '
                        f"{lexicon_files[lexicon.language]}; keep one file per language",
                    )
                else:
                    lexicon_files[lexicon.language] = display
                    lexicons.append((lexicon, reader))
        errors += reader.problems

    def link_error(entry_id: str, field_name: str | Path_, message: str) -> None:
        reader, where = readers[entry_id]
        before = len(reader.problems)
        inner = field_name if isinstance(field_name, tuple) else (field_name,)
        reader.problem((*where, *inner), message, entry_id)
        errors.extend(reader.problems[before:])

    def warn(entry_id: str, field_name: str, message: str) -> None:
        reader, where = readers[entry_id]
        mark = reader.marks.get((*where, field_name)) or reader.marks.get(where)
        warnings.append(
            Problem(
                reader.display,
                *_shown(mark),
                message,
                entry_id,
                severity="warning",
            )
        )

    declared: dict[str, set[str]] = {name: set() for name in SECTIONS}
    for file_reader in all_readers:
        for section, ids in file_reader.declared.items():
            declared[section] |= ids
    topic_ids = {t.id for t in collected["topics"]} | declared["topics"]
    service_ids = {s.id for s in collected["services"]} | declared["services"]

    def check_links(
        entry_id: str, field_name: str, ids: str | list[str], known: set[str], kind: str
    ) -> None:
        refs = (
            [(field_name,)] if isinstance(ids, str) else [(field_name, i) for i in range(len(ids))]
        )
        for where, ref in zip(refs, [ids] if isinstance(ids, str) else ids, strict=True):
            if ref not in known:
                close = difflib.get_close_matches(ref, sorted(known), n=1, cutoff=0.6)
                hint = f' Did you mean "{close[0]}"?' if close else ""
                link_error(entry_id, where, f'there is no {kind} with the id "{ref}".{hint}')

    # Links are only checked against topics when the knowledge base defines topics at all,
    # so the minimal FAQ-only form stays valid with a free-text `topic`.
    for faq in collected["faqs"]:
        if topic_ids and faq.topic:
            check_links(faq.id, "topic", faq.topic, topic_ids, "topic")
        check_links(faq.id, "services", faq.services, service_ids, "service")
    for service in collected["services"]:
        if topic_ids:
            check_links(service.id, "topics", service.topics, topic_ids, "topic")
    for event in collected["events"]:
        if event.organiser:
            check_links(event.id, "organiser", event.organiser, service_ids, "service")
        if topic_ids and event.topic:
            check_links(event.id, "topic", event.topic, topic_ids, "topic")
        if not event.is_upcoming(now):
            warn(event.id, "start", "this event is over; the bot no longer offers it")
    for line in collected["crisis"]:
        check_links(line.id, "services", line.services, service_ids, "service")
    # A lexicon's category needs a crisis line to reply with.
    categories = {line.category for line in collected["crisis"]}
    for lexicon, lexicon_reader in lexicons:
        for category in lexicon.categories:
            if category not in categories:
                before = len(lexicon_reader.problems)
                lexicon_reader.problem(
                    ("safety", "categories", category, "__key__"),
                    f'no crisis line has the category "{category}", so the bot would have no '
                    "reply for it; add one to crisis.yaml",
                )
                errors.extend(lexicon_reader.problems[before:])

    for section in ("services", "faqs", "events", "crisis"):
        for entry in collected[section]:
            assert isinstance(entry, Service | Faq | Event | CrisisLine)
            entry_id = entry.id
            if entry.last_verified and entry.last_verified > today:
                link_error(entry_id, "last_verified", "last_verified is a date in the future")
            elif is_stale(entry, today, stale_after_days):
                warn(
                    entry_id,
                    "last_verified",
                    f"not verified for over {stale_period(stale_after_days)} "
                    f"(last on {entry.last_verified}); "
                    "please check it with the provider",
                )

    errors.sort(key=lambda p: (p.file, p.line, p.column))
    warnings.sort(key=lambda p: (p.file, p.line, p.column))
    if errors:
        return LoadResult(None, errors, warnings, displays)
    knowledge = KnowledgeBase.build(
        topics=collected["topics"],
        services=collected["services"],
        faqs=collected["faqs"],
        events=collected["events"],
        crisis=collected["crisis"],
        synonyms=synonyms,
        locations=locations,
        root=str(base),
        glossary=glossary,
        region=profile,
        safety=[lexicon for lexicon, _ in lexicons],
    )
    return LoadResult(knowledge, errors, warnings, displays)


def load_knowledge(root: str | Path) -> KnowledgeBase:
    """Load a knowledge base or raise KnowledgeError listing every problem."""
    result = load_directory(root)
    if result.knowledge is None:
        raise KnowledgeError(result.errors)
    return result.knowledge
