"""Faults, attacks and load: the real bot (a separate process) against the fake Bot API.

    python benchmarks/faults.py [--kill-runs 3] [--users 50] [--actions 40] [--backlog 400]

Everything talks to 127.0.0.1 only (tests/fakebotapi.py); every loop has a deadline. One run
reports:

- kill -9 under load (users x actions, paced under the flood limit, killed mid-run and
  restarted): replies lost, replies sent twice, questions logged twice, callback queries never
  answered, answered twice. Three runs by default.
- SIGTERM with a backlog (`--backlog` questions fetched, then SIGTERM): seconds to exit, then
  after a restart: lost and duplicated.
- forged callbacks (someone else's question ids, unsigned data, copied signatures, huge or
  malformed data, a message the bot never sent): how many changed anything, how many were not
  answered; and 50 presses on one vote button: votes stored.
- flood fairness: another user's reply p99 while one user fires 300 button presses, then 300
  /start; and how many replies the flooder got.
- bot / echo bot with the same rate limiter (Telegram's 30 messages a second) under the same
  load: throughput and p99 ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakebotapi import FakeBotApi, User

TOKEN = "424242:FAULTS-benchmark-token"
SECRET = "faults-benchmark-secret-0123456789"
QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"
# The bot's flood limit is 30 updates per 10 s per user: load users stay under it.
USER_PACE = 0.4


# A request cut by kill -9 makes aiohttp log a traceback in the fake server: expected here.
logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)


def log(text: str) -> None:
    print(text, flush=True)


# -- the bot process --------------------------------------------------------------------------


@dataclass
class BotProcess:
    """The real bot (`run_bot.py run`) or the echo bot, as a child process."""

    server: FakeBotApi
    db: Path
    env: dict[str, str] = field(default_factory=dict)
    echo: bool = False
    process: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 120.0) -> float:
        """Start and wait until it polls; returns the seconds it took."""
        polls = len(self.server.calls("getUpdates"))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": self.server.base_url,
            "BOT_DB": str(self.db),
            # The model cache and spool go beside the benchmark's databases, not in the checkout.
            "BOT_DATA_DIR": str(self.db.parent),
            "BOT_HASH_SECRET": SECRET,
            "BOT_LOG_LEVEL": os.environ.get("FAULTS_LOG_LEVEL", "WARNING"),
            "PYTHONPATH": str(ROOT),
            **self.env,
        }
        command = (
            [sys.executable, str(Path(__file__).resolve()), "--echo-bot"]
            if self.echo
            else [sys.executable, str(ROOT / "run_bot.py"), "run"]
        )
        stderr = self.db.with_suffix(".log").open("ab")
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=stderr)
        started = time.monotonic()
        while len(self.server.calls("getUpdates")) <= polls:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the bot exited with {self.process.returncode}; see {stderr.name}"
                )
            if time.monotonic() - started > timeout:
                raise RuntimeError("the bot did not start polling in time")
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    def kill(self) -> None:
        """kill -9."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    async def terminate(self, timeout: float = 30.0) -> float:
        """SIGTERM; seconds until the process exited (killed after `timeout`)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        while self.process.poll() is None:
            if time.monotonic() - started > timeout:
                self.process.kill()
                self.process.wait()
                break
            await asyncio.sleep(0.02)
        return time.monotonic() - started

    async def stop(self) -> None:
        """Stop quietly at the end of a scenario."""
        if self.process is not None and self.process.poll() is None:
            await self.terminate()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return connection.execute(sql).fetchall()


def questions(limit: int = 20) -> list[str]:
    """English questions from the labelled set, not crisis ones (those are logged without text)."""
    found = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["lang"] == "en" and item["kind"] != "crisis":
            found.append(item["text"])
    random.Random(14).shuffle(found)
    return found[:limit]


async def calibrate(server: FakeBotApi, texts: list[str], user_id: int) -> dict[str, int]:
    """How many messages each question's reply takes (long answers are split)."""
    user = server.user(user_id)
    counts: dict[str, int] = {}
    for text in texts:
        before = len(server.messages(user_id))
        await server.send_text(user, text)
        await server.wait_for(lambda b=before: len(server.messages(user_id)) > b, 30)
        await asyncio.sleep(0.2)  # a split reply's later parts
        counts[text] = len(server.messages(user_id)) - before
    return counts


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- kill -9 under load -----------------------------------------------------------------------


@dataclass
class KillResult:
    lost: int
    twice: int
    logged_twice: int
    logged_lost: int
    queries: int
    unanswered: int
    answered_twice: int
    pending_after: int


async def kill_run(work: Path, run: int, users: int, actions: int) -> KillResult:
    async with FakeBotApi(TOKEN) as server:
        db = work / f"kill{run}.sqlite3"
        # The fake has no rate limit: a higher send rate keeps 2,000 actions to a minute.
        bot = BotProcess(server, db, {"BOT_SEND_RATE": "500"})
        await bot.start()
        texts = questions()
        counts = await calibrate(server, texts, 999_000 + run)
        single = [t for t in texts if counts[t] == 1]
        expected: Counter[int] = Counter()
        sent_questions = 0
        query_ids: list[str] = []
        rng = random.Random(run)

        async def user_loop(index: int) -> None:
            nonlocal sent_questions
            user = server.user(10_000 + index)
            await asyncio.sleep(rng.random() * USER_PACE)
            for step in range(actions):
                mine = server.messages(user.id)
                buttons = [m for m in mine if any(d.startswith("f:1:") for _, d in m.buttons)]
                if step % 5 == 4 and buttons:
                    data = buttons[-1].data_for("👍")
                    query_ids.append(
                        await server.press_raw(user, user.id, buttons[-1].message_id, data)
                    )
                elif step % 7 == 3:
                    await server.send_text(user, "/help")
                    expected[user.id] += 1
                else:
                    await server.send_text(user, rng.choice(single))
                    expected[user.id] += 1
                    sent_questions += 1
                await asyncio.sleep(USER_PACE)

        load = asyncio.gather(*(user_loop(i) for i in range(users)))
        await asyncio.sleep(actions * USER_PACE * 0.4)
        bot.kill()
        killed = time.monotonic()
        sends_before_kill = len(server.calls("sendMessage"))
        killed_at = sum(len(server.messages(10_000 + i)) for i in range(users))
        await bot.start()
        await load

        def complete() -> bool:
            return all(len(server.messages(u)) >= n for u, n in expected.items()) and all(
                server.answers_to(q) for q in query_ids
            )

        with contextlib.suppress(AssertionError):
            await server.wait_for(complete, 180)
        await asyncio.sleep(2.0)  # time for a duplicate to show
        await bot.stop()
        lost = sum(max(0, n - len(server.messages(u))) for u, n in expected.items())
        twice = sum(max(0, len(server.messages(u)) - n) for u, n in expected.items())
        logged = rows(db, "SELECT COUNT(*) FROM questions WHERE user_hash IS NOT NULL")[0][0]
        calibration = len(texts)
        logged -= calibration
        answers = Counter(str(a.get("callback_query_id")) for a in server.callback_answers)
        pending = rows(db, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")[0][0]
        extras = Counter(
            "slow down" if "very fast" in m.text else "error" if "went wrong" in m.text else "other"
            for u in expected
            for m in server.messages(u)
            if "very fast" in m.text or "went wrong" in m.text
        )
        if extras:
            log(f"  notices among the replies: {dict(extras)}")
        if twice:
            # When the first copies were sent: an in-doubt reply is one sent just before the kill.
            last = [c.at for c in server.log if c.method.lower() == "sendmessage"][
                :sends_before_kill
            ]
            log(f"  last sends before the kill: {[round(killed - t, 3) for t in last[-12:]]}")
        log(
            f"  run {run + 1}: killed with {killed_at} replies sent; "
            f"{sum(expected.values())} replies expected"
        )
        return KillResult(
            lost=lost,
            twice=twice,
            logged_twice=max(0, logged - sent_questions),
            logged_lost=max(0, sent_questions - logged),
            queries=len(query_ids),
            unanswered=sum(1 for q in query_ids if answers[q] == 0),
            answered_twice=sum(1 for q in query_ids if answers[q] > 1),
            pending_after=pending,
        )


# -- SIGTERM with a backlog -------------------------------------------------------------------


async def sigterm_run(work: Path, backlog: int) -> dict[str, float]:
    async with FakeBotApi(TOKEN) as server:
        db = work / "sigterm.sqlite3"
        bot = BotProcess(server, db)  # Telegram's 30 messages a second
        await bot.start()
        texts = [t for t in questions() if len(t) < 60]
        users = [server.user(20_000 + i) for i in range(backlog)]
        for i, user in enumerate(users):
            await server.send_text(user, texts[i % len(texts)])
        # Wait until the bot has fetched (and acknowledged) the whole backlog.
        await server.wait_for(lambda: not server._updates, 30)
        await asyncio.sleep(0.5)
        answered_before = sum(1 for u in users if server.messages(u.id))
        seconds = await bot.terminate()
        answered_at_stop = sum(1 for u in users if server.messages(u.id))
        pending = rows(db, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")[0][0]
        await bot.start()
        with contextlib.suppress(AssertionError):
            await server.wait_for(lambda: all(server.messages(u.id) for u in users), 120)
        await asyncio.sleep(2.0)
        await bot.stop()
        lost = sum(1 for u in users if not server.messages(u.id))
        twice = sum(1 for u in users if len(server.messages(u.id)) > 1)
        return {
            "seconds": seconds,
            "answered_before": answered_before,
            "answered_at_stop": answered_at_stop,
            "pending": pending,
            "lost": lost,
            "twice": twice,
        }


# -- forged callbacks and votes ---------------------------------------------------------------


async def forged_run(work: Path) -> dict[str, int]:
    async with FakeBotApi(TOKEN) as server:
        db = work / "forged.sqlite3"
        bot = BotProcess(server, db)
        await bot.start()
        victim, attacker = server.user(30_001), server.user(30_002)
        await server.send_text(victim, "how do I register my pet iguana for the circus")
        await server.wait_for(lambda: bool(server.messages(victim.id)), 30)
        await server.send_text(victim, "how do I get a health card")
        await server.wait_for(lambda: len(server.messages(victim.id)) >= 2, 30)
        await server.send_text(attacker, "/start")
        await server.wait_for(lambda: bool(server.messages(attacker.id)), 30)
        unanswered, answered = server.messages(victim.id)[:2]
        own = server.messages(attacker.id)[0]
        qid = rows(db, "SELECT MAX(id) FROM questions")[0][0] - 1
        copied = [d for _, d in unanswered.buttons + answered.buttons]

        def snapshot() -> list[Any]:
            return [
                rows(db, "SELECT * FROM follow_ups"),
                rows(db, "SELECT user_hash, entry_id, helpful, question_id FROM feedback"),
                rows(db, "SELECT id, outcome, entry_id FROM questions"),
                rows(db, "SELECT user_hash, language FROM users"),
            ]

        before = snapshot()
        messages_before = {victim.id: 2, attacker.id: len(server.messages(attacker.id))}
        forged = [
            f"n:{qid}",
            f"x:{qid}",
            f"f:0:{qid}:health-card",
            f"a:health-card:{qid}",
            "l:fr",
            "fg:y",
            f"n:{qid}:AAAAAAAA",
            f"x:{qid}:{'A' * 8}",
            "n:99999999999999999999999999:abcdefgh",
            "n:-1:abcdefgh",
            "n:\ud800:abcdefgh",
            "x" * 64,
            "t:health:" + "Z" * 8,
            "n",
            ":",
            *copied,  # the victim's own signed buttons, pressed by someone else
        ]
        query_ids = [
            await server.press_raw(attacker, attacker.id, own.message_id, data) for data in forged
        ]
        query_ids.append(await server.press_raw(attacker, attacker.id, 999_999, copied[0]))
        with contextlib.suppress(AssertionError):
            await server.wait_for(lambda: all(server.answers_to(q) for q in query_ids), 30)
        await asyncio.sleep(0.5)
        after = snapshot()
        changed = sum(1 for b, a in zip(before, after, strict=True) if b != a)
        expired = sum(
            1
            for q in query_ids
            if any("expired" in str(a.get("text", "")) for a in server.answers_to(q))
        )
        # 50 presses on one "helpful" button by its owner.
        vote = answered.data_for("👍")
        votes = [
            await server.press_raw(victim, victim.id, answered.message_id, vote) for _ in range(50)
        ]
        with contextlib.suppress(AssertionError):
            await server.wait_for(lambda: all(server.answers_to(q) for q in votes), 60)
        await asyncio.sleep(0.5)
        stored = rows(db, "SELECT COUNT(*) FROM feedback")[0][0]
        errors = sum(
            1
            for m in server.messages(victim.id) + server.messages(attacker.id)
            if "went wrong" in m.text
        )
        await bot.stop()
        new_messages = sum(len(server.messages(u)) - n for u, n in messages_before.items())
        return {
            "forged": len(query_ids),
            "accepted": len(query_ids) - expired,
            "tables_changed": changed,
            "unanswered": sum(1 for q in query_ids + votes if not server.answers_to(q)),
            "new_messages": new_messages,
            "votes_pressed": len(votes),
            "votes_stored": stored,
            "errors": errors,
        }


# -- flood fairness ---------------------------------------------------------------------------


async def flood_run(work: Path, burst: int) -> dict[str, dict[str, float]]:
    async with FakeBotApi(TOKEN) as server:
        db = work / "flood.sqlite3"
        bot = BotProcess(server, db)  # Telegram's 30 messages a second
        await bot.start()
        texts = [t for t in questions() if len(t) < 60]
        results = {
            kind: await flood_once(server, kind, server.user(f), server.user(o), texts, burst)
            for kind, f, o in (("presses", 40_001, 40_002), ("/start", 40_003, 40_004))
        }
        await bot.stop()
        return results


async def flood_once(
    server: FakeBotApi, kind: str, flooder: User, other: User, texts: list[str], burst: int
) -> dict[str, float]:
    """One user floods (button presses or /start) while another asks 20 questions."""
    await server.send_text(flooder, "/start")
    await server.wait_for(lambda: bool(server.messages(flooder.id)), 30)
    menu = server.messages(flooder.id)[0]
    data = menu.data_for("Health")
    await asyncio.sleep(10.5)  # a fresh flood window for the flooder
    before = len(server.messages(flooder.id)) + sum(m.edits for m in server.messages(flooder.id))
    latencies: list[float] = []

    async def flood() -> None:
        for _ in range(burst):
            if kind == "presses":
                await server.press_raw(flooder, flooder.id, menu.message_id, data)
            else:
                await server.send_text(flooder, "/start")

    async def ask() -> None:
        for i in range(20):
            count = len(server.messages(other.id))
            sent = time.monotonic()
            await server.send_text(other, texts[i % len(texts)])
            with contextlib.suppress(AssertionError):
                await server.wait_for(lambda c=count: len(server.messages(other.id)) > c, 10)
            latencies.append(time.monotonic() - sent)
            await asyncio.sleep(0.4)

    await asyncio.gather(flood(), ask())
    await asyncio.sleep(2.0)
    after = len(server.messages(flooder.id)) + sum(m.edits for m in server.messages(flooder.id))
    return {
        "p99": percentile(latencies, 0.99),
        "median": statistics.median(latencies),
        "flooder_replies": after - before,
    }


# -- bot / echo bot ---------------------------------------------------------------------------


async def throughput_run(work: Path, echo: bool, rate: float, seconds: float) -> dict[str, float]:
    async with FakeBotApi(TOKEN) as server:
        db = work / ("echo.sqlite3" if echo else "throughput.sqlite3")
        bot = BotProcess(server, db, echo=echo)
        await bot.start()
        texts = [t for t in questions() if len(t) < 60]
        if not echo:
            counts = await calibrate(server, texts[:20], 50_999)
            texts = [t for t in texts[:20] if counts[t] == 1]
        users = [server.user(50_000 + i) for i in range(30)]
        sent_at: dict[int, list[float]] = {u.id: [] for u in users}
        total = int(rate * seconds)
        started = time.monotonic()
        for i in range(total):
            user = users[i % len(users)]
            sent_at[user.id].append(time.monotonic())
            await server.send_text(user, texts[i % len(texts)])
            delay = started + (i + 1) / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        with contextlib.suppress(AssertionError):
            await server.wait_for(
                lambda: all(len(server.messages(u.id)) >= len(sent_at[u.id]) for u in users), 120
            )
        replies = [
            c
            for c in server.log
            if c.method.lower() == "sendmessage" and int(c.params["chat_id"]) in sent_at
        ]
        by_chat: dict[int, list[float]] = {}
        for call in replies:
            by_chat.setdefault(int(call.params["chat_id"]), []).append(call.at)
        latencies = [
            reply - sent
            for chat, times in by_chat.items()
            for sent, reply in zip(sent_at[chat], times, strict=False)
        ]
        last = max(c.at for c in replies)
        await bot.stop()
        return {
            "throughput": len(replies) / (last - started),
            "p99": percentile(latencies, 0.99),
            "median": statistics.median(latencies),
            "answered": len(replies),
            "sent": total,
        }


def run_echo_bot() -> None:
    """A bot that only echoes text, with the same rate limiter and polling as the real bot."""
    from telegram import Update
    from telegram.ext import (
        AIORateLimiter,
        ApplicationBuilder,
        ContextTypes,
        MessageHandler,
        filters,
    )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None and update.effective_message.text:
            await update.effective_message.reply_text(update.effective_message.text, do_quote=False)

    base = os.environ["TELEGRAM_API_BASE_URL"]
    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(base)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(32)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


# -- report -----------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        work = Path(os.environ.get("FAULTS_DIR", tmp))
        only = set(args.only.split(","))
        log(
            f"kill -9 at load: {args.users} users x {args.actions} actions, {args.kill_runs} run(s)"
        )
        runs = args.kill_runs if "kill" in only else 0
        kills = [await kill_run(work, r, args.users, args.actions) for r in range(runs)]
        for r, k in enumerate(kills, 1):
            log(
                f"  run {r}: lost {k.lost}, answered twice {k.twice}; questions logged twice "
                f"{k.logged_twice}, not logged {k.logged_lost}; button presses {k.queries}: "
                f"unanswered {k.unanswered}, answered twice {k.answered_twice}; "
                f"left pending {k.pending_after}"
            )
        if "sigterm" in only:
            await report_sigterm(work, args)
        if "forged" in only:
            await report_forged(work)
        if "flood" in only:
            await report_flood(work, args)
        if "echo" in only:
            await report_echo(work, args)
    return 0


async def report_sigterm(work: Path, args: argparse.Namespace) -> None:
    log(f"SIGTERM with a backlog of {args.backlog} questions")
    term = await sigterm_run(work, args.backlog)
    log(
        f"  exited in {term['seconds']:.2f} s; answered before SIGTERM "
        f"{term['answered_before']:.0f}, by exit {term['answered_at_stop']:.0f}, left in the "
        f"inbox {term['pending']:.0f}; after restart: lost {term['lost']:.0f}, "
        f"twice {term['twice']:.0f}"
    )


async def report_forged(work: Path) -> None:
    log("forged callbacks")
    forged = await forged_run(work)
    log(
        f"  forged presses {forged['forged']}: accepted {forged['accepted']}, tables changed "
        f"{forged['tables_changed']}, messages sent {forged['new_messages']}; unanswered "
        f"queries {forged['unanswered']}; 50 presses on one vote: {forged['votes_stored']} "
        f"vote(s) stored, {forged['errors']} error message(s)"
    )


async def report_flood(work: Path, args: argparse.Namespace) -> None:
    log(f"flood fairness: one user sends {args.burst} in a burst, another asks")
    flood = await flood_run(work, args.burst)
    for kind, numbers in flood.items():
        log(
            f"  {args.burst} {kind}: other user's p99 {numbers['p99']:.2f} s (median "
            f"{numbers['median']:.2f} s); flooder got {numbers['flooder_replies']:.0f} replies"
        )


async def report_echo(work: Path, args: argparse.Namespace) -> None:
    log(f"bot / echo bot, same rate limiter, {args.rate:g} questions/s for {args.seconds:g} s")
    echo = await throughput_run(work, True, args.rate, args.seconds)
    real = await throughput_run(work, False, args.rate, args.seconds)
    for name, numbers in (("echo", echo), ("bot", real)):
        log(
            f"  {name}: {numbers['throughput']:.1f} replies/s, p99 {numbers['p99']:.2f} s, "
            f"median {numbers['median']:.2f} s ({numbers['answered']:.0f}/{numbers['sent']:.0f})"
        )
    log(
        f"  ratio bot/echo: throughput {real['throughput'] / echo['throughput']:.2f}, "
        f"p99 {real['p99'] / echo['p99']:.2f}"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--echo-bot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kill-runs", type=int, default=3)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--actions", type=int, default=40)
    parser.add_argument("--backlog", type=int, default=400)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--rate", type=float, default=40.0, help="questions per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--only", default="kill,sigterm,forged,flood,echo", help="scenarios, comma-separated"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    if arguments.echo_bot:
        run_echo_bot()
        raise SystemExit(0)
    raise SystemExit(asyncio.run(main(arguments)))
