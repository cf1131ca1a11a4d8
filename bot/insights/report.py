"""The staff report: one self-contained, printable HTML page with charts and the tables behind them.

No scripts, fonts or images from the internet: charts are inline SVG, so the file opens
anywhere, offline, and prints cleanly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from bot.insights.overview import Overview
from bot.knowledge.model import DEFAULT_LANGUAGE, localise
from bot.needs.grouping import NeedSummary

STATUS_LABELS = {
    "new": "New",
    "assigned": "Assigned to a partner",
    "answered": "Answered",
    "not_in_scope": "Not in scope",
}
TREND_LABELS = {
    "rising": "⚠ rising fast this week",
    "up": "▲ up",
    "down": "▼ falling",
    "new": "● new",
    "steady": "= steady",
}
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "ar": "Arabic",
    "es": "Spanish",
    "zh": "Chinese",
    "uk": "Ukrainian",
    "ru": "Russian",
    "fa": "Persian (Farsi)",
    "pa": "Punjabi",
    "ta": "Tamil",
    "ur": "Urdu",
    "hi": "Hindi",
    "tl": "Tagalog",
    "pt": "Portuguese",
}
COLOURS = ("#1f6f8b", "#e07a1f", "#3c8d2f", "#9b59b6", "#c0392b", "#7f8c8d")

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; font-size: 1.3rem;
     border-bottom: 2px solid #1f6f8b; padding-bottom: .2rem; }
.lead { color: #555; } .cards { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.card { border: 1px solid #ccd; border-radius: 8px; padding: .7rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.6rem; color: #1f6f8b; }
table { border-collapse: collapse; width: 100%; margin: .8rem 0; font-size: .92rem; }
th, td { border-bottom: 1px solid #dde; padding: .35rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #eef4f7; } td.num, th.num { text-align: right; }
figure { margin: 1rem 0; } figcaption { color: #555; font-size: .9rem; }
svg text { font-family: inherit; font-size: 12px; fill: #333; }
.note { color: #555; font-size: .9rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
               figure, table { break-inside: avoid; } }
"""


def _bar_chart(chart_id: str, title: str, rows: Sequence[tuple[str, float]], unit: str = "") -> str:
    """A horizontal bar chart as inline SVG, with a text alternative."""
    if not rows:
        return f'<p class="note" id="{chart_id}">No data for this period.</p>'
    width, label_w, bar_h, gap = 720, 260, 22, 8
    height = len(rows) * (bar_h + gap) + 10
    top = max(value for _, value in rows) or 1
    parts = [
        f'<svg id="{chart_id}" class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%">'
    ]
    for i, (label, value) in enumerate(rows):
        y = 5 + i * (bar_h + gap)
        length = (width - label_w - 70) * value / top
        short = label if len(label) <= 38 else label[:36] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" '
            f'fill="{COLOURS[0]}"><title>{escape(label)}: {value:g}{unit}</title></rect>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 15}">{value:g}{unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _line_chart(chart_id: str, title: str, days: Sequence[tuple[str, int, int]]) -> str:
    """Questions per day (bars) and the answer rate (line), as inline SVG."""
    if not days:
        return f'<p class="note" id="{chart_id}">No questions in this period.</p>'
    width, height, left, bottom, top_pad = 720, 240, 40, 40, 15
    plot_w, plot_h = width - left - 45, height - bottom - top_pad
    most = max(count for _, count, _ in days) or 1
    step = plot_w / len(days)
    parts = [
        f'<svg id="{chart_id}" class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%">',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
        f'y2="{top_pad + plot_h}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{most}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
        f'<text x="{left + plot_w + 6}" y="{top_pad + 4}">100%</text>',
    ]
    points = []
    for i, (day, count, answered) in enumerate(days):
        bar = plot_h * count / most
        x = left + i * step
        parts.append(
            f'<rect class="bar" x="{x + step * 0.15:.1f}" y="{top_pad + plot_h - bar:.1f}" '
            f'width="{step * 0.7:.1f}" height="{bar:.1f}" fill="{COLOURS[0]}" opacity="0.8">'
            f"<title>{day}: {count} questions, {answered} answered</title></rect>"
        )
        rate = answered / count if count else 0
        points.append(f"{x + step / 2:.1f},{top_pad + plot_h * (1 - rate):.1f}")
        if len(days) <= 14 or i % max(1, len(days) // 10) == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{day[5:]}</text>'
            )
    parts.append(
        f'<polyline class="rate" points="{" ".join(points)}" fill="none" '
        f'stroke="{COLOURS[1]}" stroke-width="2.5"/>'
    )
    parts.append(
        f'<text x="{left}" y="{height - 6}">■ questions per day</text>'
        f'<text x="{left + 200}" y="{height - 6}" fill="{COLOURS[1]}">— answer rate</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _table(table_id: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain table; numeric cells are right-aligned."""
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if h.startswith("#") else f"<th>{escape(h)}</th>"
        for h in headers
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{value}</td>'
            if isinstance(value, int | float)
            else f"<td>{escape(str(value))}</td>"
            for value in row
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}">Nothing in this period.</td></tr>')
    rows_html = "".join(body)
    return (
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>'
    )


def _need_row(need: NeedSummary) -> list[object]:
    places = ", ".join(need.municipalities) or "—"
    languages = ", ".join(LANGUAGE_NAMES.get(code, code) for code in need.languages)
    status = STATUS_LABELS.get(need.status, need.status)
    if need.assignee:
        status += f" ({need.assignee})"
    name = need.name
    if need.typical:
        name += " — e.g. " + " / ".join(f"“{w}”" for w in need.typical)
    if need.near_entry:
        name += f" (near the existing FAQ {need.near_entry})"
    return [
        need.id,
        name,
        need.askers,
        need.in_period,
        TREND_LABELS[need.trend],
        languages,
        places,
        status,
        f"{need.first_seen:%Y-%m-%d} to {need.last_seen:%Y-%m-%d}",
    ]


def render(overview: Overview, title: str = "Newcomer questions and emerging needs") -> str:
    """The whole report page."""
    usage = overview.usage
    partnership = localise(overview.region.partnership.name, DEFAULT_LANGUAGE)
    period = f"{overview.since:%d %B %Y} to {overview.until:%d %B %Y}"
    top_needs = overview.needs[:15]
    languages = [(LANGUAGE_NAMES.get(k, k), v) for k, v in usage.languages.items()]
    cards = [
        ("Questions", f"{overview.total}"),
        ("Answered straight away", f"{overview.answer_rate:.0%}"),
        ("People who asked", f"{usage.users}"),
        ("Emerging needs", f"{len(overview.needs)}"),
    ]
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="lead">{escape(partnership)} · {escape(period)} · '
        f"made {datetime.now():%Y-%m-%d %H:%M}. Question text is shown with phone numbers, "
        "emails and personal numbers removed. No one who asked can be identified.</p>",
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{v}</b>{escape(k)}</div>' for k, v in cards)
        + "</div>",
        "<h2>Questions and answer rate</h2>",
        "<figure>"
        + _line_chart("chart-trend", "Questions per day and answer rate", usage.by_day)
        + "<figcaption>Bars: questions each day. Line: the share the bot answered.</figcaption>"
        "</figure>",
        _table(
            "table-weeks",
            ["Week", "# Questions", "# Answered", "Answer rate"],
            [(w, c, a, f"{a / c:.0%}" if c else "—") for w, c, a in overview.weeks()],
        ),
        "<h2>Emerging needs</h2>",
        '<p class="note">Questions the bot could not answer, grouped by what they ask about. '
        "Each person counts once per need, however often they asked. A need is flagged rising "
        "fast when this week's askers would be very unlikely (under 1%) at its usual rate of the "
        "4 weeks before (a Poisson test). Otherwise the trend compares this "
        "period with the one before.</p>",
        "<figure>"
        + _bar_chart(
            "chart-needs",
            "Emerging needs by number of people",
            [(f"#{n.id} {n.name}", n.askers) for n in top_needs],
        )
        + "<figcaption>The biggest needs: people who asked.</figcaption></figure>",
        _table(
            "table-needs",
            [
                "#",
                "Need (its most distinctive words, with typical wordings)",
                "# People",
                "# This period",
                "Trend",
                "Languages",
                "Places",
                "Status",
                "Seen",
            ],
            [_need_row(n) for n in overview.needs],
        ),
        "<h2>Topics people asked about</h2>",
        "<figure>"
        + _bar_chart("chart-topics", "Answered questions by topic", list(overview.topics.items()))
        + "</figure>",
        _table("table-entries", ["Answer given", "# Times"], usage.top_entries[:20]),
        "<h2>Languages</h2>",
        "<figure>"
        + _bar_chart("chart-languages", "Questions by language", languages)
        + "</figure>",
        _table("table-languages", ["Language", "# Questions"], languages),
        "<h2>Was this helpful?</h2>",
        _table(
            "table-feedback",
            ["Answer", "# Helpful", "# Not helpful"],
            [(e, h, n) for e, (h, n) in sorted(usage.feedback.items())],
        ),
        '<p class="note">Answers most often marked not helpful: '
        + (escape(", ".join(e for e, _, _ in overview.unhelpful[:5])) or "none")
        + ".</p>",
        "<h2>Partner contacts given out</h2>",
        '<p class="note">How many times each organisation\'s contacts were shown in an answer.</p>',
        _table("table-referrals", ["Organisation", "# Times"], list(usage.referrals.items())),
        "<h2>How people found the bot</h2>",
        _table("table-sources", ["Link or poster", "# People"], list(usage.sources.items())),
        "<h2>Safety</h2>",
        _table(
            "table-crisis",
            ["Kind of crisis message", "# Messages"],
            list(usage.crisis.items()),
        ),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
