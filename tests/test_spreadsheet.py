"""CSV export and import: lossless round trip, a clear diff, and validation before writing."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.knowledge import spreadsheet
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import KnowledgeBase
from tests.conftest import SITES_KB

PROJECT = Path(__file__).resolve().parent.parent


def _copy_shipped(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(PROJECT / "knowledge", target)
    return target


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.yaml"))}


def _assert_round_trip(kb: Path, folder: Path) -> KnowledgeBase:
    """Export, plan and apply: nothing to change, and no file touched."""
    before = _snapshot(kb)
    knowledge = load_knowledge(kb)
    spreadsheet.export(knowledge, folder)
    change = spreadsheet.plan(knowledge, folder)
    assert change.empty, change.summary()
    assert spreadsheet.apply(knowledge, change) == []
    assert _snapshot(kb) == before
    return knowledge


@pytest.mark.parametrize("which", ["small", "shipped"])
def test_round_trip_changes_nothing(tmp_path: Path, small_kb: Path, which: str) -> None:
    kb = small_kb if which == "small" else _copy_shipped(tmp_path)
    knowledge = _assert_round_trip(kb, tmp_path / "csv")
    again = load_knowledge(kb)
    assert again.faqs == knowledge.faqs and again.services == knowledge.services


def _edit(path: Path, entry_id: str, column: str, value: str) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    for row in rows:
        if row["id"] == entry_id:
            row[column] = value
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_import_shows_changes_then_writes(
    tmp_path: Path, small_kb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "csv"
    assert main(["export", str(folder), "--kb", str(small_kb)]) == 0
    faqs = folder / "faqs.csv"
    _edit(faqs, "sin-number", "answer", "Apply at a Service Canada Centre. It is free.")
    with faqs.open("a", encoding="utf-8", newline="") as handle:
        row = {
            "id": "library-card",
            "file": "faqs.yaml",
            "questions": "library card | join the library",
            "answer": "Visit any branch.",
        }
        with faqs.open(encoding="utf-8-sig") as header:
            fields = next(csv.reader(header))
        csv.DictWriter(handle, fieldnames=fields, restval="").writerow(row)
    capsys.readouterr()
    # Without --yes and without a terminal, nothing is written.
    assert main(["import", str(folder), "--kb", str(small_kb)]) == 1
    out = capsys.readouterr().out
    assert "1 added, 1 changed, 0 removed" in out
    assert "changed: sin-number (answer)" in out and "added:   library-card" in out
    assert "library-card" not in (small_kb / "faqs.yaml").read_text()
    assert main(["import", str(folder), "--kb", str(small_kb), "--yes"]) == 0
    knowledge = load_knowledge(small_kb)
    assert knowledge.faqs["sin-number"].answer == "Apply at a Service Canada Centre. It is free."
    assert knowledge.faqs["library-card"].questions == ["library card", "join the library"]
    assert knowledge.faqs["health-card"] == load_knowledge(small_kb).faqs["health-card"]


def test_import_refuses_an_invalid_spreadsheet(
    tmp_path: Path, small_kb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "csv"
    main(["export", str(folder), "--kb", str(small_kb)])
    _edit(folder / "services.csv", "serviceontario", "website", "not a web address")
    before = _snapshot(small_kb)
    assert main(["import", str(folder), "--kb", str(small_kb), "--yes"]) == 2
    assert "services.csv line" in capsys.readouterr().err
    assert _snapshot(small_kb) == before


def test_removed_rows_are_removed(tmp_path: Path, small_kb: Path) -> None:
    knowledge = load_knowledge(small_kb)
    folder = tmp_path / "csv"
    spreadsheet.export(knowledge, folder)
    with (folder / "faqs.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    with (folder / "faqs.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["id"] != "english-classes")
    change = spreadsheet.plan(knowledge, folder)
    assert change.removed == ["english-classes"]
    spreadsheet.apply(knowledge, change)
    assert "english-classes" not in load_knowledge(small_kb).faqs


def test_export_as_a_subprocess(tmp_path: Path, small_kb: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(PROJECT / "run_bot.py"),
            "export",
            str(tmp_path / "out"),
            "--kb",
            str(small_kb),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    header = (tmp_path / "out" / "faqs.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("id,file,topic,questions,questions_en,questions_fr,keywords,answer")
    assert header.endswith(
        "owner,source,sources,citation,last_verified,unverified,caveat,figures_from,figures_until,"
        "reviewed"
    )


def test_round_trip_keeps_awkward_phone_labels_and_event_order(
    tmp_path: Path, make_kb: Callable[[dict[str, str]], Path]
) -> None:
    kb = make_kb(
        {
            "topics.yaml": """
                topics:
                  - {id: community, title: Community, emoji: "🎉"}
                """,
            "services.yaml": """
                services:
                  - id: helpline
                    name: Helpline
                    topics: [community]
                    phones:
                      - {number: "1-800-555-0100", label: "toll-free (Canada | US)"}
                      - {number: "905-555-0100"}
                    owner: Someone
                    source: https://example.org
                    last_verified: 2026-11-01
                """,
            # Written latest first: an import must not reorder (and so rewrite) the file.
            "events.yaml": """
                events:
                  - id: winter-fair
                    title: Winter fair
                    start: 2027-01-20
                    owner: Someone
                    source: https://example.org
                    last_verified: 2026-11-01
                  - id: autumn-fair
                    title: Autumn fair
                    start: 2026-10-20
                    owner: Someone
                    source: https://example.org
                    last_verified: 2026-11-01
                """,
        }
    )
    _assert_round_trip(kb, tmp_path / "csv")
    _edit(tmp_path / "csv" / "events.csv", "autumn-fair", "title", "Harvest fair")
    change = spreadsheet.plan(load_knowledge(kb), tmp_path / "csv")
    assert change.changed == {"autumn-fair": ["title"]}
    spreadsheet.apply(load_knowledge(kb), change)
    text = (kb / "events.yaml").read_text()
    assert text.index("winter-fair") < text.index("autumn-fair")
    assert "Harvest fair" in text
    assert load_knowledge(kb).services["helpline"].phones[0].label == "toll-free (Canada | US)"


def test_sites_round_trip_and_a_broken_cell_names_its_line(
    tmp_path: Path, make_kb: Callable[[dict[str, str]], Path]
) -> None:
    kb = make_kb({"s.yaml": SITES_KB})
    knowledge = _assert_round_trip(kb, tmp_path / "csv")
    assert knowledge.services["jobs-centre"].locations[0].phones[1].label == "toll-free"
    _edit(tmp_path / "csv" / "services.csv", "jobs-centre", "locations", '[{"name": "Ajax"')
    with pytest.raises(spreadsheet.SpreadsheetError) as error:
        spreadsheet.plan(knowledge, tmp_path / "csv")
    assert str(error.value).startswith(
        "services.csv line 2 [jobs-centre]: the locations cell is not valid JSON"
    )
