"""A throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl in a temporary folder.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user the
Debian package creates (`runuser`). It listens on 127.0.0.1 on a free port, trusts local
connections (it is gone after the run), and skips fsync: nothing here needs to survive a crash.

`BOT_TEST_POSTGRES_URL` points the tests at an existing server instead (its user must be
allowed to create databases).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Set by .ci/run: PostgreSQL must start, and a failure to start fails the run instead of skipping.
REQUIRED_VARIABLE = "BOT_TEST_POSTGRES"
URL_VARIABLE = "BOT_TEST_POSTGRES_URL"
USER = "bot"


class ClusterUnavailable(Exception):
    """PostgreSQL cannot be started here; the message says why."""


def required() -> bool:
    """Whether this run must have PostgreSQL (CI sets BOT_TEST_POSTGRES=required)."""
    return os.environ.get(REQUIRED_VARIABLE, "") == "required"


def _binaries() -> Path:
    """The folder with initdb and pg_ctl: the Debian package's newest version, or PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise ClusterUnavailable(
        "PostgreSQL is not installed (no initdb; on Debian: apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """A running server; `url(name)` addresses one database on it."""

    host: str
    port: int
    user: str = USER
    folder: Path | None = None
    _run_as: list[str] = field(default_factory=list)
    _bin: Path | None = None

    def url(self, database: str = "postgres") -> str:
        """A postgresql:// URL for one database."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL with psql; its output."""
        psql = shutil.which("psql") or (str(self._bin / "psql") if self._bin else "psql")
        done = subprocess.run(
            [psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, self.url(database)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def stop(self) -> None:
        """Stop the server and remove its folder (an external server is left alone)."""
        if self.folder is None or self._bin is None:
            return
        subprocess.run(
            [
                *self._run_as,
                str(self._bin / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-w",
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def external() -> Cluster | None:
    """The server named by BOT_TEST_POSTGRES_URL, if set."""
    url = os.environ.get(URL_VARIABLE)
    if not url:
        return None
    rest = url.split("://", 1)[1]
    user, _, hostport = rest.partition("@")
    host, _, port = hostport.split("/", 1)[0].partition(":")
    return Cluster(host=host, port=int(port or 5432), user=user.split(":", 1)[0])


def start(fsync: bool = False) -> Cluster:
    """Start a throwaway server; raises ClusterUnavailable with the reason when it cannot.

    Tests run without fsync (`-F`); the benchmark asks for it, as a production server runs.
    """
    found = external()
    if found is not None:
        try:
            found.psql("SELECT 1")
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterUnavailable(f"{URL_VARIABLE} does not answer: {exc}") from exc
        return found
    bin_dir = _binaries()
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="welcome-bot-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            raise ClusterUnavailable("running as root and runuser is missing")
        try:
            shutil.chown(folder, user="postgres")
        except (LookupError, OSError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise ClusterUnavailable(
                f"running as root and there is no usable postgres user ({exc})"
            ) from exc
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = folder / "data"
    steps = [
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ],
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"{'' if fsync else '-F '}-k {folder} -p {port} -c listen_addresses=127.0.0.1",
            "start",
        ],
    ]
    for step in steps:
        done = subprocess.run(
            [*run_as, *step], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = folder / "server.log"
            detail = (done.stderr or done.stdout).strip()
            if log.exists():
                detail += "\n" + log.read_text(errors="replace")[-2000:]
            shutil.rmtree(folder, ignore_errors=True)
            raise ClusterUnavailable(f"{Path(step[0]).name} failed: {detail}")
    return Cluster("127.0.0.1", port, folder=folder, _run_as=run_as, _bin=bin_dir)


@contextlib.contextmanager
def running() -> Iterator[Cluster]:
    """`with running() as cluster:` a server for the duration of the block."""
    cluster = start()
    try:
        yield cluster
    finally:
        cluster.stop()
