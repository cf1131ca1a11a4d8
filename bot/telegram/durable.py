"""At-least-once handling: nothing fetched from Telegram is lost to a crash or a stop.

python-telegram-bot acknowledges a `getUpdates` batch when it asks for the next one, and a
webhook update when the handler returns; both only after `update_queue.put()` returned for
every update. `DurableQueue.put` writes the update to the inbox (bot/storage/inbox.py) first,
so an acknowledged update is always on disk. `WelcomeApplication.process_update` marks it done
once its handlers ran; at start, what is still pending is handled again. Handlers are
idempotent per update id (the question log is keyed by it, votes are one per user), so an
update handled twice does not count twice.

Updates of different users are handled concurrently, each user's in order (`PerUserProcessor`),
so one user's burst never makes another wait. `WelcomeApplication.stop` is bounded: it stops
taking updates from the queue, lets the ones in hand finish for at most `stop_timeout` seconds,
and leaves the rest pending in the inbox for the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Sequence
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.ext import Application, BaseUpdateProcessor, ExtBot, JobQueue

from bot.privacy import Sealer
from bot.storage import StorageError
from bot.storage.inbox import Inbox
from bot.telegram.context import BotContext, BotData
from bot.telegram.keyboards import ButtonSigner
from bot.telegram.receipts import Receipts

log = logging.getLogger(__name__)

# Docker and systemd wait 10 s after SIGTERM before SIGKILL: finish in-hand work within 8.
DEFAULT_STOP_SECONDS = 8.0
# Updates handled at once across users: enough to overlap the network waits of a busy
# minute (Telegram allows 30 messages a second), few enough to keep memory flat.
CONCURRENT_UPDATES = 32
# The base class's own limit, effectively none (see PerUserProcessor).
OPEN_GATE = 1_000_000
# The user whose update is being handled: buttons sent meanwhile are signed for them.
_BUTTON_OWNER: ContextVar[int | None] = ContextVar("button_owner", default=None)
# The update being handled: a message sent meanwhile is its reply (see Receipts).
_IN_HAND: ContextVar[int | None] = ContextVar("in_hand", default=None)
# Bot API methods that show the user something: once one succeeds, the update was answered.
REPLIES = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "sendDocument",
        "sendPhoto",
        "copyMessage",
        "forwardMessage",
    }
)
# An update whose handling was interrupted this many times is a poison pill: dropped.
MAX_ATTEMPTS = 3


# A replica's claim on a pending update older than this is taken over (see inbox_lease).
INBOX_LEASE = timedelta(seconds=60)


def inbox_lease(has_replicas: bool) -> timedelta:
    """How old another process's claim on a pending update must be before this one handles it.

    SQLite means one bot process: whatever is pending at start was left by the last run. On
    PostgreSQL, replicas share the inbox: a live replica handles an update within seconds (its
    stop timeout is 8 s), so a claim a minute old belongs to a replica that died.
    """
    return INBOX_LEASE if has_replicas else timedelta(0)


class Journal:
    """The inbox seen from Telegram: updates sealed in, opened again at start."""

    def __init__(self, inbox: Inbox, sealer: Sealer, receipts: Receipts | None = None) -> None:
        self._inbox = inbox
        self._sealer = sealer
        self.receipts = receipts
        # Updates whose reply reached Telegram before the last run stopped (see Receipts).
        self._replied: set[int] = receipts.open() if receipts is not None else set()
        # True until the receipts the last run left are settled (then the file is compacted
        # once; later take-overs of a replica's updates leave it alone).
        self._left_by_last_run = receipts is not None
        # Updates of the last fetched batch: True when new, False when already received.
        self._batch: dict[int, bool] = {}

    def _payload(self, update: Update) -> str:
        # ASCII JSON: a client can put a lone surrogate in callback data, which UTF-8 refuses.
        return self._sealer.seal(json.dumps(update.to_dict()))

    async def receive_batch(self, updates: tuple[Update, ...]) -> None:
        """Keep a fetched batch in one transaction, before the next poll acknowledges it.

        Never raises: an exception here would stop polling for good.
        """
        try:
            fresh = await self._inbox.add_many([(u.update_id, self._payload(u)) for u in updates])
        except StorageError as exc:
            log.warning("%s: updates handled without a copy in the inbox", exc)
            fresh = {u.update_id for u in updates}
        except Exception:
            log.exception("updates handled without a copy in the inbox")
            fresh = {u.update_id for u in updates}
        self._batch.update({u.update_id: u.update_id in fresh for u in updates})

    async def receive(self, update: Update) -> bool:
        """Keep an update before it is acknowledged; False when it was already received."""
        known = self._batch.pop(update.update_id, None)
        if known is not None:
            return known
        try:
            return await self._inbox.add(update.update_id, self._payload(update))
        except StorageError as exc:
            # Answering matters more than the safety copy: handle it without one.
            log.warning("%s: update handled without a copy in the inbox", exc)
            return True

    def replied(self, update_id: int) -> None:
        """Telegram confirmed a message sent for this update: keep a receipt at once."""
        if self.receipts is not None:
            self.receipts.sent(update_id)

    async def done(self, update_id: int) -> bool:
        """The update was handled; False when the inbox could not record it."""
        try:
            await self._inbox.done(update_id)
        except StorageError as exc:
            log.warning("%s: a handled update stays pending and may be answered again", exc)
            return False
        if self.receipts is not None:
            self.receipts.settled(update_id)
        return True

    async def pending(self, bot: ExtBot[Any], lease: timedelta = timedelta(0)) -> list[Update]:
        """Updates received and never handled, oldest first: by an earlier run, or by another
        replica whose claim is older than `lease`."""
        found: list[Update] = []
        for item in await self._inbox.pending(lease):
            if item.update_id in self._replied:
                # Answered before a crash, killed before the inbox heard: not answered again.
                log.info("update %d was answered before the last stop", item.update_id)
                if await self.done(item.update_id):
                    self._replied.discard(item.update_id)
                continue
            text = self._sealer.open(item.payload)
            if item.attempts > MAX_ATTEMPTS or text is None:
                reason = "it failed too often" if text else "it cannot be opened"
                log.error("dropping update %d from the inbox: %s", item.update_id, reason)
                await self.done(item.update_id)
                continue
            update = Update.de_json(json.loads(text), bot)
            if update is not None:
                found.append(update)
        if self.receipts is not None and self._left_by_last_run and not self._replied:
            self.receipts.compact()  # every old receipt is settled: start the file afresh
            self._left_by_last_run = False
        return found


class DurableBot(ExtBot[None]):
    """The bot, keeping each fetched batch in the inbox before returning it to the Updater.

    The Updater acknowledges a batch by asking for the next one, so this is the last moment
    to keep it; one transaction per batch (up to 100 updates) instead of one per update.
    """

    __slots__ = ("_journal", "_signer")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._journal: Journal | None = None
        self._signer: ButtonSigner | None = None

    def sign_with(self, signer: ButtonSigner) -> None:
        """Sign the buttons of every message sent or edited from now on."""
        self._signer = signer

    def _insert_defaults(self, data: dict[str, object]) -> None:
        """Every outgoing request passes here: sign its inline keyboard, in one place.

        A button is signed for the user whose update is being handled (the asker in a group,
        the presser of a button), else, for a job's message, the private chat it goes to.
        """
        super()._insert_defaults(data)
        markup = data.get("reply_markup")
        if self._signer is None or not isinstance(markup, InlineKeyboardMarkup):
            return
        owner = _BUTTON_OWNER.get()
        chat = data.get("chat_id")
        if owner is None and isinstance(chat, int) and chat > 0:
            owner = chat  # a private chat's id is its user's id
        if owner is not None:
            data["reply_markup"] = self._signer.keyboard(markup, owner)

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        """Every request to the Bot API: once one made for an update succeeds, keep a receipt."""
        result = await super()._do_post(
            endpoint,
            data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        update_id = _IN_HAND.get()
        if update_id is not None and self._journal is not None and endpoint in REPLIES:
            self._journal.replied(update_id)
        return result

    def keep_in(self, journal: Journal) -> None:
        """Keep fetched batches in this journal from now on (telegram objects are frozen)."""
        self._journal = journal

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        """Fetch updates, then keep them in the inbox."""
        updates = await super().get_updates(
            offset,
            limit,
            timeout,
            allowed_updates,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        if updates and self._journal is not None:
            await self._journal.receive_batch(updates)
        return updates


class DurableQueue(asyncio.Queue[object]):
    """The application's update queue: an update is in the inbox before `put` returns."""

    def __init__(self) -> None:
        super().__init__()
        self.journal: Journal | None = None

    async def put(self, item: object) -> None:
        """Keep the update, then queue it; an update already received is not queued again."""
        if (
            isinstance(item, Update)
            and self.journal is not None
            and not await self.journal.receive(item)
        ):
            log.debug("update %d was already received; not handled again", item.update_id)
            return
        await super().put(item)

    def drop_waiting(self) -> int:
        """Empty the queue of updates (they stay pending in the inbox); returns how many."""
        dropped = 0
        kept: list[object] = []
        while not self.empty():
            item = self.get_nowait()
            self.task_done()
            if isinstance(item, Update):
                dropped += 1
            else:
                kept.append(item)
        for item in kept:
            self.put_nowait(item)
        return dropped


def _lane(update: object) -> object:
    """Updates in one lane are handled in order: one lane per user (else per chat)."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return None


class PerUserProcessor(BaseUpdateProcessor):
    """Concurrent across users, in order for each user; skips what waits once stopping.

    The base class's semaphore is taken before `do_process_update`, so it is left wide open
    and the limit is applied here, after the user's lane: a user with 300 updates waiting
    holds one slot, not all of them.
    """

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(OPEN_GATE)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._lanes: dict[object, tuple[asyncio.Lock, int]] = {}
        self.stopping = False

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this user's earlier updates and a free slot, then handle the update,
        unless the bot is stopping (then it stays pending in the inbox)."""
        key = _lane(update)
        lock, waiting = self._lanes.get(key, (asyncio.Lock(), 0))
        self._lanes[key] = (lock, waiting + 1)
        try:
            async with lock, self._slots:
                if self.stopping:
                    close = getattr(coroutine, "close", None)
                    if close is not None:
                        close()  # never started: no "coroutine was never awaited" warning
                    return
                await coroutine
        finally:
            lock, waiting = self._lanes[key]
            if waiting <= 1:
                del self._lanes[key]  # idle users cost no memory
            else:
                self._lanes[key] = (lock, waiting - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class WelcomeApplication(
    Application[
        ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[BotContext]
    ]
):
    """The Application with an inbox: updates are marked done, and stopping is bounded."""

    stop_timeout: float = DEFAULT_STOP_SECONDS

    @property
    def durable_queue(self) -> DurableQueue | None:
        """The update queue when it is the inbox-backed one."""
        queue = self.update_queue
        return queue if isinstance(queue, DurableQueue) else None

    async def process_update(self, update: object) -> None:
        """Run the handlers (errors go to the error handler), then mark the update done."""
        user = update.effective_user if isinstance(update, Update) else None
        owner = _BUTTON_OWNER.set(user.id if user is not None else None)
        in_hand = _IN_HAND.set(update.update_id if isinstance(update, Update) else None)
        try:
            await super().process_update(update)
        finally:
            _IN_HAND.reset(in_hand)
            _BUTTON_OWNER.reset(owner)
        queue = self.durable_queue
        if isinstance(update, Update) and queue is not None and queue.journal is not None:
            await queue.journal.done(update.update_id)

    async def replay(self, journal: Journal, lease: timedelta = timedelta(0)) -> int:
        """Queue what an earlier run left pending, then keep every new update in the inbox.

        `lease`: with replicas sharing the inbox, leave another replica's recent updates to it.
        """
        queue = self.durable_queue
        if queue is None:
            return 0
        queue.journal = journal
        if isinstance(self.bot, DurableBot):
            self.bot.keep_in(journal)
        found = await self.take_over(lease)
        if found:
            log.info("handling %d update(s) left pending by the last run", found)
        return found

    async def take_over(self, lease: timedelta) -> int:
        """Queue the pending updates whose holder's claim is older than `lease` (a replica
        that died with them in hand); how many."""
        queue = self.durable_queue
        if queue is None or queue.journal is None:
            return 0
        pending = await queue.journal.pending(self.bot, lease)
        for update in pending:
            queue.put_nowait(update)  # already in the inbox: not written again
        return len(pending)

    async def stop(self) -> None:
        """Stop taking updates, finish those in hand within `stop_timeout`, leave the rest."""
        processor = self.update_processor
        if isinstance(processor, PerUserProcessor):
            processor.stopping = True
        queue = self.durable_queue
        left = queue.drop_waiting() if queue is not None else 0
        if left:
            log.info("stopping: %d waiting update(s) stay in the inbox for the next start", left)
        try:
            await asyncio.wait_for(super().stop(), self.stop_timeout)
        except TimeoutError:
            log.warning(
                "stopping took over %g s: updates still in hand stay in the inbox",
                self.stop_timeout,
            )
            tasks: set[asyncio.Task[Any]] = getattr(self, "_Application__create_task_tasks", set())
            for task in list(tasks):
                task.cancel()
            if self.job_queue is not None and self.job_queue.scheduler.running:
                await self.job_queue.stop(wait=False)
