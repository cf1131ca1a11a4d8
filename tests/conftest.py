"""Shared fixtures: small knowledge bases in tmp_path, and the databases (SQLite, PostgreSQL)."""

from __future__ import annotations

import importlib.util
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests import pgserver

# The multilingual encoder (the optional extra) reads the whole shipped knowledge base the
# first time (minutes): the bot and the command line start it only in tests marked
# `encoder`; commands run as subprocesses get BOT_ENCODER=off.
os.environ["BOT_ENCODER"] = "off"
# For subprocesses started with an environment of their own.
ENCODER_OFF = {"BOT_ENCODER": "off"}


@pytest.fixture(autouse=True)
def _encoder_only_where_asked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("encoder") is None:
        from bot.matching import encoder

        monkeypatch.setattr(encoder, "start", lambda cache_dir=None: None)


PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
# The shipped region profile (Durham's towns, Toronto time): small test bases use it too.
REGION_YAML = (PROJECT / "knowledge" / "region.yaml").read_text(encoding="utf-8")

SMALL_KB = {
    "region.yaml": REGION_YAML,
    "topics.yaml": """
        topics:
          - id: health
            title: {en: Health, fr: Santé}
            emoji: "🩺"
          - id: settlement
            title: {en: Settlement help, fr: Aide à l'établissement}
            emoji: "🤝"
        synonyms:
          - [ohip, health card, ontario health insurance plan, carte sante]
          - [sin, social insurance number]
        """,
    "services.yaml": """
        services:
          - id: serviceontario
            name: ServiceOntario
            topics: [health]
            description: Ontario government service centre for health cards and licences.
            phones:
              - {number: "1-800-267-8097", label: toll-free}
            website: https://www.ontario.ca/page/serviceontario
            owner: Province of Ontario
            source: https://www.ontario.ca/page/serviceontario
            last_verified: 2026-11-01
          - id: welcome-centre-pickering
            name: Pickering Welcome Centre
            topics: [settlement]
            address: 1400 Bayly Street, Unit 1, Pickering ON L1W 3R2
            phones: ["905-420-3600"]
            languages: [English]
            municipalities: [Pickering]
            offer_when_unanswered: true
            owner: Welcome Centre Immigrant Services
            source: https://www.durhamimmigration.ca/en/index.aspx
            last_verified: 2026-11-01
          - id: crisis-988
            name: Suicide Crisis Helpline
            phones: ["988"]
            owner: Government of Canada
            source: https://988.ca
            last_verified: 2026-11-01
        """,
    "faqs.yaml": """
        faqs:
          - id: health-card
            topic: health
            questions:
              en:
                - how do I get a health card
                - how to apply for OHIP
                - I need an Ontario health card for my family
              fr:
                - comment obtenir une carte santé
            keywords: [ohip, health card]
            answer:
              en: Apply for OHIP at a ServiceOntario centre. Bring your immigration papers.
              fr: Demandez la carte Santé dans un centre ServiceOntario.
            services: [serviceontario]
            owner: Region of Durham
            source: https://www.durhamimmigration.ca/en/moving-to-durham-region/healthcare.aspx
            last_verified: 2026-11-01
          - id: sin-number
            topic: settlement
            questions:
              - how do I get a social insurance number
              - where to apply for SIN
              - I need a SIN to work
            answer: Apply for a Social Insurance Number (SIN) at Service Canada.
            source: https://www.canada.ca/en/employment-social-development/services/sin.html
            last_verified: 2026-11-01
          - id: english-classes
            topic: settlement
            questions:
              - where can I take free English classes
              - LINC classes near me
              - I want to learn English
            answer: Free English classes (LINC) are for permanent residents and refugees.
            services: [welcome-centre-pickering]
            source: https://www.durhamimmigration.ca/en/index.aspx
            last_verified: 2026-11-01
        """,
    "crisis.yaml": """
        crisis:
          - id: self-harm
            category: self_harm
            priority: 1
            triggers:
              en: [kill myself, suicide, want to die, hurt myself]
              fr: [me suicider, envie de mourir]
            reply:
              en: Please call or text 988 now. Someone will listen, any time.
              fr: Appelez ou textez le 988 maintenant.
            services: [crisis-988]
            source: https://988.ca
            last_verified: 2026-11-01
        """,
}


# Two entries a one-word question cannot tell apart: "bus" should get "did you mean".
BUS_KB = """
faqs:
  - id: bus-routes
    questions: [bus routes and schedules, when does the bus come, bus timetable]
    answer: See the routes.
  - id: bus-fares
    questions: [how much is the bus fare, bus ticket price, bus pass cost]
    answer: See the fares.
"""

# A service with a second site (its own address, phones and hours).
SITES_KB = """
services:
  - id: jobs-centre
    name: Jobs centre
    phones: ["905-579-1821"]
    address: 272 King Street East, Oshawa ON
    locations:
      - name: {en: Pickering centre, fr: Centre de Pickering}
        address: 1400 Bayly Street, Unit 12, Pickering ON
        phones: ["905-420-4010", {number: "1-800-361-4642", label: toll-free}]
        hours: Monday to Friday, 9 to 5
        municipality: Pickering
"""


def write_kb(root: Path, files: dict[str, str]) -> Path:
    """Write YAML files (dedented) under root/kb and return that folder."""
    kb = root / "kb"
    for name, text in files.items():
        path = kb / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return kb


@pytest.fixture
def small_kb(tmp_path: Path) -> Path:
    """A small but complete knowledge base: topics, services, FAQs, crisis, synonyms."""
    return write_kb(tmp_path, SMALL_KB)


@pytest.fixture
def make_kb(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Write any set of YAML files as a knowledge base."""
    return lambda files: write_kb(tmp_path, files)


# -- databases: every storage test runs on SQLite and on a real PostgreSQL server -----------


def _postgres_unavailable(reason: str) -> NoReturn:
    if pgserver.required():
        pytest.fail(
            f"PostgreSQL was expected ({pgserver.REQUIRED_VARIABLE}=required) but: {reason}"
        )
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[pgserver.Cluster]:
    """One throwaway PostgreSQL server for the whole run, stopped at the end."""
    if importlib.util.find_spec("asyncpg") is None:
        _postgres_unavailable("the driver is not installed (pip install '.[postgres]')")
    try:
        cluster = pgserver.start()
    except pgserver.ClusterUnavailable as exc:
        _postgres_unavailable(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a test's storage lives: a SQLite file, or a new database on the test server."""
    if request.param == "sqlite":
        return tmp_path / "bot.sqlite3"
    cluster: pgserver.Cluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database()
