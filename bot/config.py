"""Settings from a TOML file, environment variables and command-line options, in that order."""

from __future__ import annotations

import importlib.util
import os
import tomllib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from bot.errors import UserError
from bot.knowledge.freshness import STALE_AFTER_DAYS
from bot.matching import thresholds
from bot.retention import RETENTION_DAYS

# Days for digest_day, Monday first (datetime.weekday() numbering).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The knowledge base ships inside the wheel as this package (pyproject.toml maps knowledge/).
KNOWLEDGE_PACKAGE = "welcome_bot_knowledge"
DATABASE_NAME = "welcome-bot.sqlite3"


def is_checkout(root: Path = PROJECT_ROOT) -> bool:
    """True when running from a clone of the project (not an installed package)."""
    return (root / "pyproject.toml").is_file() and (root / "knowledge").is_dir()


def bundled_knowledge() -> Path:
    """The shipped knowledge base: the checkout's knowledge/ folder, or the installed copy."""
    if is_checkout():
        return PROJECT_ROOT / "knowledge"
    # A folder of data files is a namespace package: its one search location is the folder.
    spec = importlib.util.find_spec(KNOWLEDGE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return PROJECT_ROOT / "knowledge"  # missing: commands then say to use --kb
    return Path(next(iter(spec.submodule_search_locations)))


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where state goes by default: ./data in a checkout, the user's data folder otherwise."""
    if is_checkout():
        return PROJECT_ROOT / "data"
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "welcome-bot"


BUNDLED_KNOWLEDGE = bundled_knowledge()

# Environment variable for each setting; TELEGRAM_* keep the names people expect.
ENVIRONMENT: dict[str, str] = {
    "telegram_token": "TELEGRAM_BOT_TOKEN",
    "api_base_url": "TELEGRAM_API_BASE_URL",
    "kb_dir": "BOT_KB",
    "data_dir": "BOT_DATA_DIR",
    "db_path": "BOT_DB",
    "hash_secret": "BOT_HASH_SECRET",
    "answer_threshold": "BOT_ANSWER_THRESHOLD",
    "ambiguity_margin": "BOT_AMBIGUITY_MARGIN",
    "suggest_threshold": "BOT_SUGGEST_THRESHOLD",
    "related_threshold": "BOT_RELATED_THRESHOLD",
    "staff_ids": "BOT_STAFF_IDS",
    "stale_after_days": "BOT_STALE_AFTER_DAYS",
    "retention_days": "BOT_RETENTION_DAYS",
    "webhook_url": "BOT_WEBHOOK_URL",
    "webhook_listen": "BOT_WEBHOOK_LISTEN",
    "webhook_port": "BOT_WEBHOOK_PORT",
    "webhook_secret": "BOT_WEBHOOK_SECRET",
    "health_port": "BOT_HEALTH_PORT",
    "health_listen": "BOT_HEALTH_LISTEN",
    "log_level": "BOT_LOG_LEVEL",
    "follow_up_seconds": "BOT_FOLLOW_UP_SECONDS",
    "bot_username": "BOT_USERNAME",
    "digest_day": "BOT_DIGEST_DAY",
    "digest_hour": "BOT_DIGEST_HOUR",
    "nudge_days": "BOT_NUDGE_DAYS",
    "invite_days": "BOT_INVITE_DAYS",
    "stop_seconds": "BOT_STOP_SECONDS",
    "send_rate": "BOT_SEND_RATE",
    "encoder": "BOT_ENCODER",
}


# A database setting starting like this names a PostgreSQL server instead of a SQLite file.
DATABASE_URL_SCHEMES = ("postgresql://", "postgres://")


# OpenBLAS threads for the bot's own arithmetic. Its sums are small (sparse word vectors, one
# 8,000 x 384 product per question): a cold start took 16.0 s with OpenBLAS's default threads
# and 16.4 s with one. But those threads spin after each call, and on 2 cores they took a core
# from the multilingual encoder's worker: 86 ms per question (median) instead of 19
# (benchmarks/multilingual.py).
BLAS_THREADS = "1"


def limit_blas_threads(environ: MutableMapping[str, str] = os.environ) -> None:
    """One OpenBLAS thread, unless the operator chose a number; works only before numpy loads
    (the command line calls it first)."""
    environ.setdefault("OPENBLAS_NUM_THREADS", BLAS_THREADS)


class ConfigError(UserError):
    """A setting has a value the bot cannot use."""

    label: ClassVar[str] = "configuration error"
    exit_code = 2


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Secrets are left out of repr so they never reach a log."""

    telegram_token: str | None = field(default=None, repr=False)
    api_base_url: str | None = None
    kb_dir: Path = BUNDLED_KNOWLEDGE
    # Every file the bot writes (database, secret, spool, model cache) goes in here.
    data_dir: Path = field(default_factory=default_data_dir)
    # None: welcome-bot.sqlite3 inside data_dir.
    db_path: Path | None = None
    # Set instead of the file when BOT_DB / --db is a postgresql:// URL (it may hold a
    # password, so it stays out of repr). data_dir still holds the local files.
    db_url: str | None = field(default=None, repr=False)
    hash_secret: str | None = field(default=None, repr=False)
    answer_threshold: float = thresholds.DEFAULT_ANSWER_THRESHOLD
    ambiguity_margin: float = thresholds.DEFAULT_AMBIGUITY_MARGIN
    suggest_threshold: float | None = None
    related_threshold: float = thresholds.DEFAULT_RELATED_THRESHOLD
    staff_ids: frozenset[int] = frozenset()
    stale_after_days: int = STALE_AFTER_DAYS
    retention_days: int = RETENTION_DAYS
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    # GET /healthz and /metrics (bot/telegram/health.py); None: not served. 0 picks a free port.
    health_port: int | None = None
    health_listen: str = "127.0.0.1"
    # How often waiting follow-ups are sent: 30 s is soon enough for "tell me when you know".
    follow_up_seconds: float = 30.0
    # None: INFO for the Telegram bot, WARNING for terminal commands.
    log_level: str | None = None
    # For partner invitation links (https://t.me/<bot_username>?start=partner-...); asked of
    # Telegram when not set.
    bot_username: str | None = None
    # The weekly digest to staff: day and hour in the region's time zone (region.yaml).
    digest_day: str = "monday"
    digest_hour: int = 9
    # Partners get their list of entries to check this often ("once a month").
    nudge_days: int = 30
    # Partner invitation codes stop working after this many days.
    invite_days: int = 14
    # On SIGTERM, how long updates in hand may take to finish (docker stop waits 10 s).
    stop_seconds: float = 8.0
    # Messages per second the bot sends at most: Telegram's limit for a bot is 30.
    send_rate: float = 30.0
    # The multilingual encoder (the `multilingual` extra): "auto" uses it when it is installed
    # and the CPU can run it; "off" matches on words alone.
    encoder: str = "auto"

    @property
    def database(self) -> str | Path:
        """What to open: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.db_url or self.sqlite_file

    @property
    def sqlite_file(self) -> Path:
        """The SQLite question log: --db when given, else inside the data directory."""
        return self.db_path or self.data_dir / DATABASE_NAME

    @property
    def model_cache(self) -> Path:
        """Where trained matching models are kept, so an unchanged knowledge base loads fast."""
        return self.data_dir / "model-cache"

    @property
    def validate_cache(self) -> Path:
        """Where `validate` keeps parsed files and near-duplicate results (bot.knowledge.memo)."""
        return self.data_dir / "validate-cache"

    @property
    def secret_path(self) -> Path:
        """Where a generated hashing secret is kept: beside the database (they go together)."""
        return self.sqlite_file.with_name(self.sqlite_file.name + ".secret")

    @property
    def receipts_file(self) -> Path:
        """This process's receipts of replies sent (bot/telegram/receipts.py), beside the
        database file (with PostgreSQL, the SQLite file's place in the data directory)."""
        return self.sqlite_file.with_name(self.sqlite_file.name + ".receipts")

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with the given (non-None) values converted and applied."""
        return replace(self, **_convert({k: v for k, v in values.items() if v is not None}))


def _convert(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn strings from files and the environment into each field's type."""
    types = {f.name: f.type for f in fields(Settings)}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in types:
            raise ConfigError(f"unknown setting {name!r}")
        kind = str(types[name])
        if name == "db_path" and isinstance(value, str) and value.startswith(DATABASE_URL_SCHEMES):
            out["db_url"] = value
            continue
        if name == "db_path" and value not in ("", None):
            out["db_url"] = None  # a file given later (--db) wins over a URL from BOT_DB
        try:
            if value in ("", None):
                out[name] = None if "None" in kind else value
            elif "Path" in kind:
                out[name] = Path(value).expanduser()
            elif "frozenset" in kind:
                items = value.split(",") if isinstance(value, str) else value
                out[name] = frozenset(int(str(i).strip()) for i in items if str(i).strip())
            elif kind.startswith("float"):
                out[name] = float(value)
            elif kind.startswith("int"):
                out[name] = int(value)
            else:
                out[name] = str(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"the setting {name} has an unusable value {value!r}") from exc
    return out


def load_settings(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then the TOML file (if any), then environment variables."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or (Path(environ["BOT_CONFIG"]) if environ.get("BOT_CONFIG") else None)
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from exc
    for name, variable in ENVIRONMENT.items():
        if variable in environ:
            values[name] = environ[variable]
    settings = replace(Settings(), **_convert(values))
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    """Reject values that would make the bot misbehave."""
    for name in ("answer_threshold", "ambiguity_margin", "related_threshold"):
        value = getattr(settings, name)
        if not 0 <= value <= 100:
            raise ConfigError(f"{name} must be between 0 and 100 (it is {value})")
    if not 0 < settings.stop_seconds <= 60:
        raise ConfigError(
            f"stop_seconds must be above 0 and at most 60 (it is {settings.stop_seconds})"
        )
    if not 0 < settings.send_rate <= 1000:
        raise ConfigError(
            f"send_rate must be above 0 and at most 1000 (it is {settings.send_rate})"
        )
    if settings.suggest_threshold is not None and not (
        0 <= settings.suggest_threshold <= settings.answer_threshold
    ):
        raise ConfigError("suggest_threshold must be between 0 and answer_threshold")
    if settings.db_url and not settings.hash_secret:
        # A secret generated on one machine would give each replica different user keys.
        raise ConfigError(
            "with a PostgreSQL database, set BOT_HASH_SECRET: every replica must use the same one"
        )
    if settings.digest_day.strip().lower() not in WEEKDAYS:
        raise ConfigError(
            f"digest_day must be a day of the week, like monday (not {settings.digest_day!r})"
        )
    if not 0 <= settings.digest_hour <= 23:
        raise ConfigError(f"digest_hour must be between 0 and 23 (it is {settings.digest_hour})")
    for name in ("nudge_days", "invite_days"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be at least 1 day")
