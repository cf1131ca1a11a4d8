"""A fake Telegram Bot API server on 127.0.0.1, for running the real bot in tests.

It speaks the Bot API over real HTTP: getUpdates long polling (with offset and timeout) or
webhook delivery, and the methods the bot uses. It validates like Telegram does (HTML
well-formedness, the 4,096-character limit, 64-byte callback data) and answers errors in
Telegram's shape. Tests drive it as users would: send text, press buttons, read replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
ALLOWED_TAGS = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "tg-spoiler": set(),
    "span": {"class"},
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}
ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
OBJECT_FIELDS = {
    "reply_markup",
    "entities",
    "link_preview_options",
    "reply_parameters",
    "commands",
    "scope",
    "allowed_updates",
}
INT_FIELDS = {"chat_id", "message_id", "offset", "timeout", "limit", "cache_time"}


class BadRequest(Exception):
    """A request Telegram would refuse."""

    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.code = code


class _TelegramHtml(HTMLParser):
    """Checks Telegram's HTML subset and measures the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise BadRequest(f'Bad Request: can\'t parse entities: unsupported start tag "{tag}"')
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                raise BadRequest(f"Bad Request: can't parse entities: unsupported attribute {name}")
        if tag == "a" and not dict(attrs).get("href"):
            raise BadRequest("Bad Request: can't parse entities: a tag without href")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise BadRequest(f'Bad Request: can\'t parse entities: unmatched end tag "{tag}"')
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or "&" in data:
            raise BadRequest('Bad Request: can\'t parse entities: unescaped "<" or "&" in the text')
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ENTITIES:
            raise BadRequest(f"Bad Request: can't parse entities: unsupported entity &{name};")
        self.visible.append(ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        self.visible.append(html.unescape(f"&#{name};"))

    def unknown_decl(self, data: str) -> None:
        raise BadRequest("Bad Request: can't parse entities: unexpected declaration")


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text a user would see, after checking the markup; raises BadRequest like Telegram."""
    if parse_mode is None:
        return text
    if parse_mode.upper() != "HTML":
        raise BadRequest(f"Bad Request: unsupported parse_mode {parse_mode}")
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.rawdata:  # HTMLParser keeps an unfinished "<tag" here
        raise BadRequest("Bad Request: can't parse entities: unclosed start tag")
    if parser.stack:
        raise BadRequest(f'Bad Request: can\'t parse entities: unclosed tag "{parser.stack[-1]}"')
    return "".join(parser.visible)


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def check_markup(markup: JSON | None) -> None:
    """Inline keyboards: each button has text and exactly one action; data up to 64 bytes."""
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise BadRequest("Bad Request: inline keyboard button text is empty")
            actions = [k for k in ("url", "callback_data") if k in button]
            if len(actions) != 1:
                raise BadRequest("Bad Request: inline keyboard button has no or several actions")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise BadRequest("Bad Request: BUTTON_DATA_INVALID")


@dataclass(frozen=True)
class User:
    """A test user."""

    id: int
    first_name: str = "Amina"
    language_code: str | None = "en"
    username: str | None = None

    def as_json(self) -> JSON:
        """The Bot API User object."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class SentMessage:
    """A message the bot sent, with edits applied."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: JSON | None
    date: int
    edits: int = 0

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data or url) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data") or b.get("url", "")) for r in rows for b in r]

    def data_for(self, label_part: str) -> str:
        """The callback data of the first button whose label contains `label_part`."""
        for label, data in self.buttons:
            if label_part.lower() in label.lower():
                return data
        raise AssertionError(f"no button with {label_part!r} in {self.buttons}")


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: JSON
    at: float = field(default_factory=time.monotonic)


class FakeBotApi:
    """The fake server. Use `async with FakeBotApi(token) as server:`."""

    bot_id = 7000001
    bot_username = "durham_welcome_test_bot"

    def __init__(self, token: str) -> None:
        self.token = token
        self.url = ""
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._changed = asyncio.Condition()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self.sent: dict[int, dict[int, SentMessage]] = {}
        self.log: list[Call] = []
        self.unknown: list[str] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.callback_answers: list[JSON] = []
        self.documents: list[JSON] = []
        # Chats whose user blocked the bot: sending there fails with 403, as on Telegram.
        self.blocked: set[int] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a port the OS chooses."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Wake pending long polls, finish deliveries and close."""
        self._stopping = True
        async with self._changed:
            self._changed.notify_all()
        for task in list(self._deliveries):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """python-telegram-bot's base_url for this server."""
        return f"{self.url}/bot"

    # -- HTTP --------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> JSON:
        if request.content_type == "application/json":
            body = await request.text()
            return json.loads(body) if body else {}
        raw = dict(await request.post()) if request.can_read_body else {}
        raw.update(request.query)
        params: JSON = {}
        for key, value in raw.items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "content": value.file.read()}
                continue
            text = value if isinstance(value, str) else str(value)
            if key in OBJECT_FIELDS:
                params[key] = json.loads(text)
            elif key in INT_FIELDS:
                params[key] = int(float(text))
            elif text in ("true", "false") and key not in ("text", "data"):
                params[key] = text == "true"
            else:
                params[key] = text
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        self.log.append(Call(method, params))
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            self.unknown.append(method)
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        try:
            result = await handler(params)
        except BadRequest as exc:
            return web.json_response(
                {"ok": False, "error_code": exc.code, "description": exc.description},
                status=exc.code,
            )
        return web.json_response({"ok": True, "result": result})

    # -- Bot API methods ---------------------------------------------------------------------

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Durham Welcome",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getme(self, params: JSON) -> JSON:
        return self._bot_user()

    async def _api_getupdates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise BadRequest(
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                409,
            )
        offset = int(params.get("offset", 0) or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit", 100) or 100)
        deadline = time.monotonic() + float(params.get("timeout", 0) or 0)
        async with self._changed:
            while not self._updates and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
        return self._updates[:limit]

    def _check_text(self, params: JSON) -> tuple[str, str | None]:
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        visible = visible_text(text, parse_mode)
        if not visible.strip():
            raise BadRequest("Bad Request: message text is empty")
        if utf16_length(visible) > 4096:
            raise BadRequest("Bad Request: message is too long")
        check_markup(params.get("reply_markup"))
        return text, parse_mode

    def _message_json(self, message: SentMessage) -> JSON:
        data: JSON = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat_json(message.chat_id),
            "from": self._bot_user(),
            "text": message.text,
        }
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.edits:
            data["edit_date"] = message.date
        return data

    def _chat_json(self, chat_id: int) -> JSON:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": "Newcomers group"}
        return {"id": chat_id, "type": "private", "first_name": "User"}

    async def _api_sendmessage(self, params: JSON) -> JSON:
        text, parse_mode = self._check_text(params)
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            raise BadRequest("Forbidden: bot was blocked by the user", 403)
        ids = self._message_ids.setdefault(chat_id, itertools.count(1000))
        message = SentMessage(
            chat_id, next(ids), text, parse_mode, params.get("reply_markup"), int(time.time())
        )
        self.sent.setdefault(chat_id, {})[message.message_id] = message
        await self._notify()
        return self._message_json(message)

    async def _api_senddocument(self, params: JSON) -> JSON:
        document = params.get("document")
        if not isinstance(document, dict) or not document.get("content"):
            raise BadRequest("Bad Request: there is no document in the request")
        if len(document["content"]) > 50 * 1024 * 1024:  # the Bot API's upload limit
            raise BadRequest("Bad Request: file is too big", 413)
        chat_id = int(params["chat_id"])
        ids = self._message_ids.setdefault(chat_id, itertools.count(1000))
        sent: JSON = {
            "chat_id": chat_id,
            "message_id": next(ids),
            "filename": document["filename"],
            "content": document["content"],
            "caption": params.get("caption", ""),
        }
        self.documents.append(sent)
        await self._notify()
        return {
            "message_id": sent["message_id"],
            "date": int(time.time()),
            "chat": self._chat_json(chat_id),
            "from": self._bot_user(),
            "document": {
                "file_id": f"doc{sent['message_id']}",
                "file_unique_id": f"u{sent['message_id']}",
                "file_name": document["filename"],
            },
            "caption": sent["caption"],
        }

    def _find(self, params: JSON) -> SentMessage:
        chat_id = int(params.get("chat_id", 0))
        message = self.sent.get(chat_id, {}).get(int(params.get("message_id", 0)))
        if message is None:
            raise BadRequest("Bad Request: message to edit not found")
        return message

    async def _api_editmessagetext(self, params: JSON) -> JSON:
        message = self._find(params)
        text, parse_mode = self._check_text(params)
        markup = params.get("reply_markup")
        if text == message.text and markup == message.reply_markup:
            raise BadRequest(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        message.text, message.parse_mode, message.reply_markup = text, parse_mode, markup
        message.edits += 1
        await self._notify()
        return self._message_json(message)

    async def _api_editmessagereplymarkup(self, params: JSON) -> JSON:
        message = self._find(params)
        markup = params.get("reply_markup")
        check_markup(markup)
        if markup == message.reply_markup:
            raise BadRequest("Bad Request: message is not modified")
        message.reply_markup = markup
        message.edits += 1
        await self._notify()
        return self._message_json(message)

    async def _api_answercallbackquery(self, params: JSON) -> bool:
        self.callback_answers.append(params)
        await self._notify()
        return True

    async def _api_setmycommands(self, params: JSON) -> bool:
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands[(scope, params.get("language_code") or "")] = params.get("commands", [])
        return True

    async def _api_getmycommands(self, params: JSON) -> list[JSON]:
        scope = (params.get("scope") or {}).get("type", "default")
        return self.commands.get((scope, params.get("language_code") or ""), [])

    async def _api_deletemycommands(self, params: JSON) -> bool:
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands.pop((scope, params.get("language_code") or ""), None)
        return True

    async def _api_setwebhook(self, params: JSON) -> bool:
        self.webhook_url = str(params["url"]) or None
        self.webhook_secret = params.get("secret_token")
        return True

    async def _api_deletewebhook(self, params: JSON) -> bool:
        self.webhook_url = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_getwebhookinfo(self, params: JSON) -> JSON:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _api_sendchataction(self, params: JSON) -> bool:
        return True

    async def _api_close(self, params: JSON) -> bool:
        return True

    async def _api_logout(self, params: JSON) -> bool:
        return True

    # -- the test driver -------------------------------------------------------------------

    def user(self, id: int, first_name: str = "Amina", language_code: str | None = "en") -> User:
        """A user who can talk to the bot."""
        return User(id, first_name, language_code)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _enqueue(self, update: JSON) -> int:
        if "update_id" not in update:  # an update sent again keeps its id
            update["update_id"] = next(self._update_ids)
        if self.webhook_url:
            task = asyncio.create_task(self._deliver(update))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        else:
            self._updates.append(update)
            await self._notify()
        return int(update["update_id"])

    async def _deliver(self, update: JSON) -> None:
        assert self._session is not None and self.webhook_url is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret or ""}
        async with self._session.post(self.webhook_url, json=update, headers=headers) as reply:
            assert reply.status == 200, f"webhook answered {reply.status}"

    def text_update(self, user: User, text: str) -> JSON:
        """A message update, numbered but not delivered (a test routes it, as a balancer would)."""
        return {
            "update_id": next(self._update_ids),
            "message": self._message(user, None, text=text),
        }

    def button_update(self, user: User, message: SentMessage, data: str) -> JSON:
        """A button press update, numbered but not delivered."""
        assert any(d == data for _, d in message.buttons), f"{data!r} not in {message.buttons}"
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": user.as_json(),
            "message": self._message_json(message),
            "chat_instance": f"ci{message.chat_id}",
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    async def post_update(self, url: str, update: JSON, secret: str) -> int:
        """POST an update to one webhook address (one replica); the HTTP status."""
        assert self._session is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with self._session.post(url, json=update, headers=headers) as reply:
            return reply.status

    async def post_raw_webhook(self, body: JSON, secret: str | None) -> int:
        """POST an update to the bot's webhook with any secret; returns the HTTP status."""
        assert self._session is not None and self.webhook_url is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self._session.post(self.webhook_url, json=body, headers=headers) as reply:
            return reply.status

    def _message(self, user: User, chat_id: int | None, **content: Any) -> JSON:
        chat = chat_id if chat_id is not None else user.id
        data: JSON = {
            "message_id": int(time.time() * 1000) % 1_000_000_000,
            "date": int(time.time()),
            "chat": self._chat_json(chat)
            if chat < 0
            else {"id": chat, "type": "private", "first_name": user.first_name},
            "from": user.as_json(),
        }
        data.update(content)
        return data

    async def send_text(
        self, user: User, text: str, chat_id: int | None = None, reply_to: SentMessage | None = None
    ) -> int:
        """The user types a message (commands and @mentions get their entities)."""
        entities: list[JSON] = []
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            entities.append({"type": "bot_command", "offset": 0, "length": length})
        mention = f"@{self.bot_username}"
        if mention in text and not text.startswith("/"):
            entities.append(
                {"type": "mention", "offset": text.index(mention), "length": len(mention)}
            )
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            content["reply_to_message"] = self._message_json(reply_to)
        return await self._enqueue({"message": self._message(user, chat_id, **content)})

    async def send_raw(self, update: JSON) -> int:
        """Any update (a channel post, an edit, a message without a sender); returns its id.

        An `update_id` given is kept: Telegram sending an unacknowledged update again.
        """
        return await self._enqueue(dict(update))

    def message_json(self, user: User | None, chat_id: int, text: str, **extra: Any) -> JSON:
        """A message object as Telegram would send it, for `send_raw`."""
        data: JSON = {
            "message_id": int(time.time() * 1000) % 1_000_000_000,
            "date": int(time.time()),
            "chat": self._chat_json(chat_id),
            "text": text,
            **extra,
        }
        if user is not None:
            data["from"] = user.as_json()
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            data["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return data

    async def send_sticker(self, user: User) -> int:
        """The user sends a sticker."""
        sticker = {
            "file_id": "CAADAgAD",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "😀",
        }
        return await self._enqueue({"message": self._message(user, None, sticker=sticker)})

    async def send_photo(self, user: User) -> int:
        """The user sends a photo."""
        photo = [{"file_id": "AgACAgQ", "file_unique_id": "AQAD", "width": 90, "height": 90}]
        return await self._enqueue({"message": self._message(user, None, photo=photo)})

    async def send_voice(self, user: User) -> int:
        """The user sends a voice note."""
        voice = {"file_id": "AwACAgQ", "file_unique_id": "AgADv", "duration": 3}
        return await self._enqueue({"message": self._message(user, None, voice=voice)})

    async def send_location(self, user: User) -> int:
        """The user shares a location."""
        location = {"latitude": 43.8971, "longitude": -78.8658}
        return await self._enqueue({"message": self._message(user, None, location=location)})

    async def press_button(self, user: User, message: SentMessage, data: str) -> int:
        """The user presses an inline button of a message the bot sent."""
        assert any(d == data for _, d in message.buttons), f"{data!r} not in {message.buttons}"
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": user.as_json(),
            "message": self._message_json(message),
            "chat_instance": f"ci{message.chat_id}",
            "data": data,
        }
        return await self._enqueue({"callback_query": query})

    async def press_raw(self, user: User, chat_id: int, message_id: int, data: str) -> str:
        """A client sends any callback data, for any message id (as a forged client can).

        Returns the callback query id, to find its answer in `callback_answers`.
        """
        sent = self.sent.get(chat_id, {}).get(message_id)
        message = (
            self._message_json(sent)
            if sent is not None
            else {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat_json(chat_id),
                "from": self._bot_user(),
                "text": "a message the bot never sent",
            }
        )
        query_id = str(next(self._update_ids) * 7919)
        query = {
            "id": query_id,
            "from": user.as_json(),
            "message": message,
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        await self._enqueue({"callback_query": query})
        return query_id

    def answers_to(self, query_id: str) -> list[JSON]:
        """Every answerCallbackQuery the bot made for one query."""
        return [a for a in self.callback_answers if str(a.get("callback_query_id")) == query_id]

    # -- reading what the bot did ----------------------------------------------------------

    def calls(self, method: str) -> list[JSON]:
        """Parameters of every call of one method, in order."""
        return [c.params for c in self.log if c.method.lower() == method.lower()]

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages in a chat, oldest first, with edits applied."""
        return list(self.sent.get(chat_id, {}).values())

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until the predicate holds (checked whenever the bot does something)."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("timed out waiting for the bot")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.2))

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least `count` messages to a chat."""
        await self.wait_for(lambda: len(self.messages(chat_id)) >= count, timeout)
        return self.messages(chat_id)

    async def wait_for_edit(
        self, message: SentMessage, edits: int, timeout: float = 5.0
    ) -> SentMessage:
        """Wait until a message has been edited `edits` times."""
        await self.wait_for(lambda: message.edits >= edits, timeout)
        return message
