"""Two `run --webhook-url` processes on one PostgreSQL database, behind the fake Bot API.

The test plays the load balancer: it numbers updates and posts them to the replicas in turn.
It checks that follow-ups go out once while both replicas run their follow-up job, then kills
one replica mid-load (SIGKILL, no clean shut-down, between two of its updates) and fails over
to the other: every
question is logged once and answered once, and the needs match a single-process grouping.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from bot.insights import overview as insights
from bot.knowledge.loader import load_knowledge
from bot.storage import Storage
from tests import pgserver
from tests.conftest import ENCODER_OFF, SMALL_KB, write_kb
from tests.fakebotapi import FakeBotApi, SentMessage

TOKEN = "123456:TEST-replicas-token-abcdef"
SECRET = "webhook-secret-for-the-test"
PROJECT = Path(__file__).resolve().parent.parent

UNANSWERED = [
    "where can I buy a cricket bat",
    "is there a cricket club for adults",
    "cricket bat shop near me",
    "where can I play badminton on sunday",
    "badminton court open sunday",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _listening(port: int, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no replica listening on {port}") from None
            await asyncio.sleep(0.2)
        else:
            writer.close()
            await writer.wait_closed()
            return


async def test_two_replicas_lose_nothing_and_do_nothing_twice(
    postgres_cluster: pgserver.Cluster, tmp_path: Path
) -> None:
    url = postgres_cluster.create_database()
    kb = write_kb(tmp_path, SMALL_KB)
    async with FakeBotApi(TOKEN) as server:
        ports = [_free_port(), _free_port()]
        hooks = [f"http://127.0.0.1:{port}/hook" for port in ports]
        replicas: list[asyncio.subprocess.Process] = []
        logs = [(tmp_path / f"replica{n}" / "stderr.log") for n in (0, 1)]
        for number, port in enumerate(ports):
            home = tmp_path / f"replica{number}"
            home.mkdir()
            log_file = logs[number].open("wb")
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                **ENCODER_OFF,
                "HOME": str(home),
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": server.base_url,
                "BOT_KB": str(kb),
                "BOT_DB": url,
                "BOT_HASH_SECRET": "h" * 64,
                "BOT_WEBHOOK_SECRET": SECRET,
                "BOT_FOLLOW_UP_SECONDS": "0.5",
            }
            replicas.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(PROJECT / "run_bot.py"),
                    "run",
                    "--webhook-url",
                    hooks[number],
                    "--port",
                    str(port),
                    env=env,
                    cwd=home,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=log_file,
                )
            )
            log_file.close()  # the child has its own copy
        alive = [True, True]
        turn = 0

        async def post(update: dict[str, object]) -> None:
            """Deliver to the next live replica; fail over when one does not answer."""
            nonlocal turn
            for _ in range(2):
                number = turn % 2
                turn += 1
                if not alive[number]:
                    continue
                try:
                    assert await server.post_update(hooks[number], update, SECRET) == 200
                    return
                except OSError:
                    alive[number] = False  # the balancer takes it out of rotation
            raise AssertionError("no replica took the update")

        try:
            for port in ports:
                await _listening(port)

            # 1. Unanswered questions with "tell me when you know", on both replicas.
            replies: dict[int, SentMessage] = {}
            for i, text in enumerate(UNANSWERED):
                user = server.user(100 + i)
                await post(server.text_update(user, text))
                (replies[user.id],) = await server.wait_for_messages(user.id, 1, timeout=20)
            for user_id, reply in replies.items():
                before = len(server.callback_answers)
                await post(
                    server.button_update(server.user(user_id), reply, reply.data_for("Tell me"))
                )
                await server.wait_for(lambda b=before: len(server.callback_answers) > b, 20)
            storage = await Storage.open(url, spool_dir=tmp_path)
            try:
                await server.wait_for(lambda: True)
                assert await storage.questions.count() == len(UNANSWERED)
                since, until = insights.period(None, None)
                needs = await insights.list_needs(storage, since, until)
                knowledge = load_knowledge(kb)
                for need in needs:
                    await insights.answer_need(storage, need.id, "english-classes", knowledge)
                # Both replicas run the follow-up job every half second meanwhile.
                for user_id in replies:
                    await server.wait_for_messages(user_id, 2, timeout=20)
                await asyncio.sleep(3)  # six more rounds on each replica: still one each
                for user_id in replies:
                    followed = [m for m in server.messages(user_id) if "Good news" in m.text]
                    assert len(followed) == 1, user_id
                pending = await storage.db.fetch_one(
                    "SELECT COUNT(*) FROM follow_ups WHERE sent_at IS NULL"
                )
                assert pending is not None and int(pending[0]) == 0

                # 2. Load on both replicas; one is killed mid-load.
                questions = [
                    (200 + i, "how do I get a health card" if i % 2 else "I need a SIN to work")
                    for i in range(40)
                ]
                for index, (user_id, text) in enumerate(questions):
                    if index == 20:
                        # Kill replica 1 once it has answered what it accepted, while replica 0
                        # may still be working. (An update a replica accepted with HTTP 200 and
                        # died before handling is Telegram's no longer: the update inbox of the
                        # reliability issue closes that gap; this test does not cover it.)
                        for earlier, _ in questions[1:index:2]:
                            await server.wait_for_messages(earlier, 1, timeout=20)
                        replicas[1].send_signal(signal.SIGKILL)
                        await replicas[1].wait()
                    await post(server.text_update(server.user(user_id), text))
                for user_id, _ in questions:
                    await server.wait_for_messages(user_id, 1, timeout=20)
                await asyncio.sleep(1)  # anything answered twice would show by now
                for user_id, _ in questions:
                    assert len(server.messages(user_id)) == 1, user_id
                assert not alive[1]
                logged = await storage.questions.find()
                assert len(logged) == len(UNANSWERED) + len(questions)
                assert sum(q.outcome == "answered" for q in logged) == len(questions)
                needs_after = await storage.needs.all()
            finally:
                await storage.close()

            # 3. The needs are what one process would have made of the same questions.
            single = await Storage.open(tmp_path / "single.sqlite3")
            try:
                await single.questions.log_many(
                    [q for q in logged if q.outcome == "unanswered"]  # same order, same texts
                )
                await insights.refresh_needs(single)
                expected = await single.needs.all()
            finally:
                await single.close()
            assert sorted(sorted(m.text for m in n.members) for n in needs_after) == sorted(
                sorted(m.text for m in n.members) for n in expected
            )
        finally:
            for process in replicas:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(process.wait(), 20)
                    except TimeoutError:
                        process.kill()
                        await process.wait()
        assert replicas[0].returncode == 0, (tmp_path / "replica0" / "stderr.log").read_text()
        for number in (0, 1):
            assert TOKEN not in (tmp_path / f"replica{number}" / "stderr.log").read_text()
