"""GET /healthz and GET /metrics for the running bot: for Docker, systemd, uptime checks and
Prometheus.

A tiny HTTP server on asyncio streams (two fixed routes need no web framework) started from
the application's post_init, in polling and in webhook mode alike. Neither page ever holds a
user's text or id: only counts, times and the knowledge base's version.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from telegram.request import HTTPXRequest

from bot.knowledge.model import KnowledgeBase

log = logging.getLogger(__name__)

# Polling is "not working" when no getUpdates call has succeeded for this long. A healthy long
# poll returns at least every 10 s (python-telegram-bot's default timeout), so 45 s allows
# three missed polls plus slack and still turns not-ok within the 60 s a monitor expects.
STALE_AFTER_SECONDS = 45.0
# Reply latencies: most answers take about 4 ms to match; Telegram's round trip dominates.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A request line and headers fit in this; anything longer is not a health check.
MAX_REQUEST_BYTES = 8192
READ_TIMEOUT_SECONDS = 5.0


class Metrics:
    """The bot's Prometheus metrics, in a registry of its own (one per running bot)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "welcome_bot_questions",
            "Questions answered, by outcome (answered, ambiguous, unanswered, crisis)",
            ["outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "welcome_bot_reply_seconds",
            "Time from receiving a question to sending the reply",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "welcome_bot_errors", "Updates that could not be handled", registry=self.registry
        )
        self.reloads = Counter(
            "welcome_bot_reloads",
            "Knowledge-base changes seen, by result (reloaded, refused)",
            ["result"],
            registry=self.registry,
        )
        self.follow_ups = Counter(
            "welcome_bot_follow_ups_sent",
            "Follow-up messages sent to people who asked to be told",
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)


def knowledge_version(knowledge: KnowledgeBase) -> str:
    """A short digest of the knowledge base's files: changes whenever any file does."""
    root = Path(knowledge.root)
    files = [root] if root.is_file() else sorted(root.rglob("*.y*ml")) if root.is_dir() else []
    digest = hashlib.sha256()
    for path in files:
        with contextlib.suppress(OSError):
            digest.update(str(path.relative_to(root) if root.is_dir() else path.name).encode())
            digest.update(b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@dataclass
class Health:
    """What /healthz reports, fed by the running bot."""

    mode: str = "polling"
    stale_after: float = STALE_AFTER_SECONDS
    clock: Callable[[], float] = time.monotonic
    metrics: Metrics = field(default_factory=Metrics)
    # Filled in by post_init: whether the database takes writes right now.
    database_check: Callable[[], Awaitable[bool]] | None = None
    started: float = field(init=False)
    last_contact: float = field(init=False)
    knowledge: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Until the first poll returns, the start counts as the last contact (a grace period).
        self.started = self.last_contact = self.clock()

    def contact(self) -> None:
        """A poll succeeded or a webhook update arrived."""
        self.last_contact = self.clock()

    def loaded(self, knowledge: KnowledgeBase) -> None:
        """A knowledge base is now being served."""
        self.knowledge = {
            "version": knowledge_version(knowledge),
            "entries": len(knowledge),
            "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    async def report(self) -> dict[str, Any]:
        """The /healthz document; `status` is "ok" only when every check holds."""
        since = round(self.clock() - self.last_contact, 1)
        writable = False
        if self.database_check is not None:
            try:
                writable = await self.database_check()
            except Exception:  # a health check reports, it never raises
                log.warning("the database check failed", exc_info=True)
        # A webhook bot with no visitors is fine; a polling bot that cannot poll is not.
        fresh = self.mode == "webhook" or since <= self.stale_after
        ok = fresh and writable and bool(self.knowledge)
        return {
            "status": "ok" if ok else "not ok",
            "mode": self.mode,
            "seconds_since_last_update": since,
            "stale_after_seconds": self.stale_after,
            "database_writable": writable,
            "knowledge": self.knowledge or None,
            "uptime_seconds": round(self.clock() - self.started, 1),
        }


class ContactRequest(HTTPXRequest):
    """The getUpdates connection: each successful poll tells `Health` Telegram is reachable."""

    def __init__(self, health: Health, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._health = health

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Send the request; a 2xx answer counts as contact."""
        code, payload = await super().do_request(*args, **kwargs)
        if 200 <= code < 300:
            self._health.contact()
        return code, payload


class HealthServer:
    """Serves /healthz and /metrics on one port until stopped."""

    def __init__(self, health: Health, host: str, port: int) -> None:
        self.health = health
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen (port 0 picks a free port, kept in `self.port`)."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_SECONDS)
            if len(head) > MAX_REQUEST_BYTES:
                raise ValueError("request too long")
            method, target, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            status, content_type, body = await self._route(method, target.split("?", 1)[0])
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        except ValueError:
            status, content_type, body = "400 Bad Request", "text/plain", b"bad request\n"
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n".encode("latin-1")
            + body
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def _route(self, method: str, path: str) -> tuple[str, str, bytes]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"only GET\n"
        if path == "/healthz":
            report = await self.health.report()
            status = "200 OK" if report["status"] == "ok" else "503 Service Unavailable"
            return status, "application/json", json.dumps(report).encode() + b"\n"
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, self.health.metrics.render()
        return "404 Not Found", "text/plain", b"not found: try /healthz or /metrics\n"
