"""The HTML report: self-contained, with charts and tables, checked in a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.insights import overview as insights
from bot.insights import report
from bot.knowledge.loader import load_knowledge
from bot.storage import LoggedQuestion, Storage

PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


async def _filled_report(tmp_path: Path, small_kb: Path) -> str:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    now = datetime.now(UTC)
    try:
        rows = []
        for day in range(20):
            for i in range(day % 5 + 2):
                rows.append(
                    LoggedQuestion(
                        channel="telegram",
                        language="fr" if i == 0 else "en",
                        outcome="answered",
                        text="health card",
                        user_hash=f"a{day}{i}",
                        entry_id="health-card",
                        score=90,
                        asked_at=now - timedelta(days=day, hours=i),
                    )
                )
            rows.append(
                LoggedQuestion(
                    channel="telegram",
                    language="en",
                    outcome="unanswered",
                    text=["cricket club in Ajax", "halal butcher <Brock> & co", "yoga class"][
                        day % 3
                    ],
                    user_hash=f"u{day}",
                    asked_at=now - timedelta(days=day),
                )
            )
        await storage.questions.log_many(rows)
        await storage.feedback.record("a", "health-card", helpful=True)
        await storage.usage.add_referrals(1, "health-card", [("serviceontario", "Province")])
        view = await insights.overview(
            storage, now - timedelta(days=28), now + timedelta(seconds=1), load_knowledge(small_kb)
        )
        return report.render(view)
    finally:
        await storage.close()


async def test_report_is_self_contained_with_charts_and_tables(
    tmp_path: Path, small_kb: Path
) -> None:
    html = await _filled_report(tmp_path, small_kb)
    for element in (
        "chart-trend",
        "chart-needs",
        "chart-topics",
        "chart-languages",
        "table-needs",
        "table-weeks",
        "table-languages",
        "table-referrals",
    ):
        assert f'id="{element}"' in html
    # Nothing loaded from elsewhere: no scripts, external styles, images or fonts.
    assert not re.search(r"<script|<link|<img|@import|src=|url\(", html)
    assert "halal butcher &lt;Brock&gt; &amp; co" in html  # user text is escaped
    assert "@media print" in html


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (CI installs it)")
async def test_report_renders_in_a_real_browser(tmp_path: Path, small_kb: Path) -> None:
    assert CHROMIUM is not None
    page = tmp_path / "report.html"
    page.write_text(await _filled_report(tmp_path, small_kb), encoding="utf-8")
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    ).stdout
    # The browser parsed the charts as SVG with bars, and the tables with rows.
    assert re.search(r'<svg id="chart-trend"[^>]*>.*<rect class="bar"', dom, re.S)
    assert re.search(r'<polyline class="rate"', dom)
    assert re.search(r'<svg id="chart-needs"[^>]*>.*<rect class="bar"', dom, re.S)
    needs_rows = re.search(r'<table id="table-needs">.*?<tbody>(.*?)</tbody>', dom, re.S)
    assert needs_rows is not None
    assert needs_rows.group(1).count("<tr>") == 3
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1100,2600",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=90,
        check=True,
    )
    assert shot.stat().st_size > 20_000  # a real rendering, not a blank page


def test_need_rows_show_the_label_typical_wordings_and_the_rising_flag() -> None:
    from datetime import UTC, datetime

    from bot.needs.grouping import NeedSummary

    moment = datetime(2026, 11, 24, tzinfo=UTC)
    need = NeedSummary(
        3, "cricket bat", "new", "", "", None, 5, 5, 5, 0, {"en": 5}, {}, moment, moment,
        ("bat", "cricket"), ("cricket bat",), label="cricket bat",
        typical=("cricket bat shop", "cricket bats?"), this_week=5, usual_week=0.5,
        rising=True, near_entry="sports",
    )  # fmt: skip
    row = report._need_row(need)
    assert (
        row[1]
        == "cricket bat — e.g. “cricket bat shop” / “cricket bats?” (near the existing FAQ sports)"
    )
    assert row[4] == "⚠ rising fast this week"
