"""The one place that builds the bot's parts from settings: knowledge base, brain, database,
hasher. Every front end (Telegram, the terminal chat, the command line) calls these."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import BUNDLED_KNOWLEDGE, ConfigError, Settings
from bot.knowledge.loader import load_knowledge
from bot.privacy import (
    MIN_SECRET_BYTES,
    ChatTokens,
    SecretError,
    UserHasher,
    load_or_create_secret,
)
from bot.storage import Storage

if TYPE_CHECKING:  # the matching engine (numpy, scipy, embeddings) loads only to build a brain
    from bot.assistant import Brain
    from bot.knowledge.model import KnowledgeBase
    from bot.matching.encoder import Encoder
    from bot.replies.messages import Catalogue


async def open_storage(settings: Settings) -> Storage:
    """Open the configured database: the SQLite file, or PostgreSQL when a URL is set."""
    return await Storage.open(settings.database, spool_dir=settings.data_dir)


def secret_of(settings: Settings) -> bytes:
    """The configured secret, or one generated once and kept beside the database.

    SecretError (one line) when it cannot be used: too short, empty, unreadable.
    """
    if settings.hash_secret:
        secret = settings.hash_secret.encode()
        if len(secret) < MIN_SECRET_BYTES:
            raise SecretError(f"BOT_HASH_SECRET must be at least {MIN_SECRET_BYTES} characters")
        return secret
    return load_or_create_secret(settings.secret_path)


def make_hasher(settings: Settings) -> UserHasher:
    """The keyed hasher for user ids."""
    return UserHasher(secret_of(settings))


def make_chat_tokens(settings: Settings) -> ChatTokens:
    """The sealer for chat ids of users who asked for a follow-up."""
    return ChatTokens(secret_of(settings))


ENCODER_MODES = ("auto", "off")


def _encoder_wanted(settings: Settings) -> bool:
    """Whether BOT_ENCODER asks for the encoder (ConfigError for an unknown value)."""
    if settings.encoder not in ENCODER_MODES:
        raise ConfigError(f"BOT_ENCODER must be one of {', '.join(ENCODER_MODES)}")
    return settings.encoder == "auto"


def open_encoder(settings: Settings) -> Encoder | None:
    """The multilingual encoder's worker process, or None: turned off, the extra not
    installed, or a CPU without AVX2 and FMA. Close it when the bot stops."""
    if not _encoder_wanted(settings):
        return None
    from bot.matching import encoder  # noqa: PLC0415 - see TYPE_CHECKING above

    return encoder.start(settings.model_cache)


def encoder_for(settings: Settings) -> AbstractContextManager[Encoder | None]:
    """`open_encoder` for a command: the worker is stopped when the block ends."""
    if not _encoder_wanted(settings):
        return nullcontext(None)
    from bot.matching import encoder  # noqa: PLC0415 - see TYPE_CHECKING above

    return encoder.running(settings.model_cache)


def build_brain(
    knowledge: KnowledgeBase,
    settings: Settings,
    catalogue: Catalogue,
    encoder: Encoder | None = None,
) -> Brain:
    """Index a knowledge base with the configured thresholds and card options (and the
    encoder's vectors of its wordings, when one is given: minutes the first time)."""
    from bot.assistant import Brain  # noqa: PLC0415 - see TYPE_CHECKING above
    from bot.matching.matcher import MatchSettings  # noqa: PLC0415
    from bot.replies.cards import CardOptions  # noqa: PLC0415

    return Brain.build(
        knowledge,
        catalogue,
        MatchSettings(
            answer_threshold=settings.answer_threshold,
            ambiguity_margin=settings.ambiguity_margin,
            suggest_threshold=settings.suggest_threshold,
            related_threshold=settings.related_threshold,
        ),
        CardOptions(
            stale_after_days=settings.stale_after_days, retention_days=settings.retention_days
        ),
        cache_dir=settings.model_cache,
        safety_examples=safety_examples(settings),
        encoder=encoder,
    )


def load_brain(settings: Settings, catalogue: Catalogue, encoder: Encoder | None = None) -> Brain:
    """Load and index the configured knowledge base; KnowledgeError lists every problem."""
    return build_brain(load_knowledge(settings.kb_dir), settings, catalogue, encoder)


def safety_examples(settings: Settings) -> Path:
    """The labelled messages the safety layer's learned model reads (bot.matching.danger):
    the knowledge base's own `safety/examples.jsonl`, else the shipped one (the examples are
    about danger in many languages, not about one region)."""
    own = settings.kb_dir / "safety" / "examples.jsonl"
    return own if own.exists() else BUNDLED_KNOWLEDGE / "safety" / "examples.jsonl"
