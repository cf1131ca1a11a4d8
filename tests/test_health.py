"""GET /healthz and GET /metrics: unit checks of the report, then the real bot on the fake
Bot API, where polling is made to fail and the status turns to not ok."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.knowledge.loader import load_knowledge
from bot.telegram import app as telegram_app
from bot.telegram.health import Health, HealthServer, knowledge_version
from tests.conftest import SMALL_KB, write_kb
from tests.fakebotapi import BadRequest, FakeBotApi

TOKEN = "123456:TEST-token-never-logged-abcdef"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _yes() -> bool:
    return True


async def _no() -> bool:
    return False


async def test_status_is_ok_only_when_every_check_holds(small_kb: Path) -> None:
    clock = Clock()
    health = Health(clock=clock, stale_after=45)
    assert (await health.report())["status"] == "not ok"  # no database check, no knowledge
    health.database_check = _yes
    health.loaded(load_knowledge(small_kb))
    report = await health.report()
    assert report["status"] == "ok"
    assert report["knowledge"]["entries"] > 0
    clock.now += 46  # no poll for longer than stale_after
    assert (await health.report())["status"] == "not ok"
    health.contact()
    assert (await health.report())["status"] == "ok"
    health.database_check = _no
    report = await health.report()
    assert report["status"] == "not ok" and report["database_writable"] is False


async def test_a_quiet_webhook_bot_is_healthy(small_kb: Path) -> None:
    clock = Clock()
    health = Health(mode="webhook", clock=clock, database_check=_yes)
    health.loaded(load_knowledge(small_kb))
    clock.now += 3600
    assert (await health.report())["status"] == "ok"


def test_the_knowledge_version_follows_the_files(small_kb: Path) -> None:
    before = knowledge_version(load_knowledge(small_kb))
    assert before == knowledge_version(load_knowledge(small_kb))
    (small_kb / "faqs.yaml").write_text(
        (small_kb / "faqs.yaml").read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8"
    )
    assert knowledge_version(load_knowledge(small_kb)) != before


async def test_unknown_paths_and_methods(small_kb: Path) -> None:
    server = HealthServer(Health(database_check=_yes), "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{server.port}"
            async with http.get(f"{base}/nope") as response:
                assert response.status == 404
            async with http.post(f"{base}/healthz") as response:
                assert response.status == 405
    finally:
        await server.stop()


async def _wait_for_status(http: aiohttp.ClientSession, url: str, wanted: str) -> dict:
    deadline = time.monotonic() + 15
    while True:
        async with http.get(url) as response:
            report = await response.json()
            assert response.status == (200 if report["status"] == "ok" else 503)
        if report["status"] == wanted or time.monotonic() > deadline:
            return report
        await asyncio.sleep(0.2)


async def test_healthz_and_metrics_on_the_running_bot(tmp_path: Path) -> None:
    kb = write_kb(tmp_path, SMALL_KB)
    async with FakeBotApi(TOKEN) as server:
        settings = Settings(
            telegram_token=TOKEN,
            api_base_url=server.base_url,
            kb_dir=kb,
            data_dir=tmp_path / "data",
            hash_secret="s" * 32,
            health_port=0,
        )
        application = telegram_app.build_application(settings)
        health = application.bot_data.health
        assert health is not None
        # Polls return every second here; a dead poll shows within a few seconds.
        health.stale_after = 3
        await telegram_app.start_polling(application, timeout=1)
        try:
            health_server = application.bot_data.health_server
            assert health_server is not None
            base = f"http://127.0.0.1:{health_server.port}"
            user = server.user(987654321, language_code="en")
            await server.send_text(user, "how do I get a health card")
            await server.wait_for_messages(987654321, 1)
            async with aiohttp.ClientSession() as http:
                report = await _wait_for_status(http, f"{base}/healthz", "ok")
                assert report["status"] == "ok", report
                assert report["database_writable"] is True
                assert report["knowledge"]["version"] == knowledge_version(load_knowledge(kb))
                assert report["seconds_since_last_update"] < 3
                async with http.get(f"{base}/metrics") as response:
                    metrics = await response.text()
                assert 'welcome_bot_questions_total{outcome="answered"} 1.0' in metrics
                assert "welcome_bot_reply_seconds_count 1.0" in metrics
                for private in ("health card", "987654321", "Amina"):
                    assert private not in metrics.replace("_count 1.0", "")
                    assert private not in str(report)

                # Telegram stops answering getUpdates: within stale_after the bot is not ok.
                async def failing(params: object) -> object:
                    raise BadRequest("Bad Gateway", 502)

                server._api_getupdates = failing  # type: ignore[method-assign]
                report = await _wait_for_status(http, f"{base}/healthz", "not ok")
                assert report["status"] == "not ok", report
                assert report["seconds_since_last_update"] > 3
        finally:
            await telegram_app.stop(application)
    assert application.bot_data.health_server is None  # stopped with the bot


@pytest.mark.parametrize("port", ["", "8081"])
def test_the_health_port_setting(port: str) -> None:
    from bot.config import load_settings

    settings = load_settings(environ={"BOT_HEALTH_PORT": port} if port else {})
    assert settings.health_port == (int(port) if port else None)
