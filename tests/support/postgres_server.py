"""A throwaway PostgreSQL server for the tests, and a fresh database per test.

One cluster per pytest process (each xdist worker has its own session, so its own cluster):
initdb into a temporary directory, started on a free port on 127.0.0.1 with its unix socket
in the same directory, stopped and deleted when the session ends. Each test that asks for
`postgres_url` gets a database of its own, dropped afterwards.

Where the server comes from, in order:
- OPENEIS_TEST_POSTGRES_URL: an existing server (a URL whose user may create databases);
  nothing is started, test databases are created and dropped on it;
- OPENEIS_PG_BIN: the directory holding initdb and pg_ctl;
- the newest /usr/lib/postgresql/*/bin, or initdb on PATH.
Without binaries the tests that need PostgreSQL are skipped, unless OPENEIS_REQUIRE_POSTGRES=1
(CI), when they fail. initdb refuses to run as root: as root the server runs as the
`postgres` user, created if missing.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

SERVER_USER = "postgres"  # the operating-system user the cluster runs as, when we are root
SUPERUSER = "openeis_test"  # the database superuser initdb creates
SETTINGS = {
    # A throwaway cluster: durability buys nothing here and costs seconds.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "60",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
}


def find_binaries() -> Path | None:
    configured = os.environ.get("OPENEIS_PG_BIN")
    if configured:
        return Path(configured)
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        if (Path(directory) / "initdb").exists():
            return Path(directory)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _version(directory: str) -> int:
    name = Path(directory).parent.name
    return int(name) if name.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_user() -> str | None:
    """None: run as ourselves. As root: the unprivileged user, created if missing."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
                       check=True, capture_output=True)
    return SERVER_USER


@dataclass
class PostgresServer:
    base_url: str  # a URL without the database name
    directory: Path | None = None  # None: a server we did not start
    binaries: Path | None = None
    user: str | None = None

    def url(self, database: str) -> str:
        parts = urlsplit(self.base_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(sql)

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run(prefix + list(command), capture_output=True, text=True)

    def start(self) -> None:
        assert self.directory and self.binaries
        data = self.directory / "data"
        result = self._run(str(self.binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
                           "-E", "UTF8", "--locale=C", "--no-sync")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        for attempt in range(5):  # a free port can be taken by someone else before we bind it
            port = _free_port()
            settings = {**SETTINGS, "port": str(port), "listen_addresses": "'127.0.0.1'",
                        "unix_socket_directories": f"'{self.directory}'"}
            with open(data / "postgresql.auto.conf", "a") as conf:
                conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
            result = self._run(str(self.binaries / "pg_ctl"), "-D", str(data), "-l", str(self.directory / "server.log"),
                               "-w", "-t", "60", "start")
            if result.returncode == 0:
                self.base_url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
                return
            time.sleep(0.2 * (attempt + 1))
        log = (self.directory / "server.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"PostgreSQL did not start:\n{result.stdout}\n{result.stderr}\n{log}")

    def stop(self) -> None:
        if self.directory is None or not self.directory.exists():
            return
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def start_server() -> PostgresServer:
    """Start a throwaway cluster (or use OPENEIS_TEST_POSTGRES_URL); raises if impossible."""
    existing = os.environ.get("OPENEIS_TEST_POSTGRES_URL")
    if existing:
        return PostgresServer(existing)
    binaries = find_binaries()
    if binaries is None or not (binaries / "initdb").exists():
        raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian "
                                "package postgresql, set OPENEIS_PG_BIN, or set OPENEIS_TEST_POSTGRES_URL")
    user = _server_user()
    # Not under pytest's tmp_path: its parent is private to us, and the server user must reach it.
    directory = Path(tempfile.mkdtemp(prefix="openeis-pg-"))
    if user:
        os.chown(directory, pwd.getpwnam(user).pw_uid, -1)
    server = PostgresServer("", directory, binaries, user)
    atexit.register(server.stop)  # also when the session dies without its teardown
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = start_server()
    except FileNotFoundError as error:
        missing = str(error)
    else:
        missing = None
    if missing and os.environ.get("OPENEIS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"OPENEIS_REQUIRE_POSTGRES=1 but {missing}", pytrace=False)
    if missing:
        pytest.skip(missing)
    yield server
    server.stop()


_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server, worker_id):
    """A URL of a new, empty database, dropped after the test."""
    name = f"openeis_test_{worker_id}_{os.getpid()}_{next(_numbers)}"
    postgres_server.admin(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name)
    postgres_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request, tmp_path):
    """Where a test's store lives, once per engine: a DuckDB file, then a PostgreSQL database.
    Commands take it as `--store`; the key file is ./openeis.key for both."""
    if request.param == "duckdb":
        return str(tmp_path / "openeis.duckdb")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def any_store(cli, store_url, monkeypatch):
    """`store_url`, also set as OPENEIS_STORE, so that every command of the test, in-process
    or in a subprocess, uses it without --store (after `cli`, which clears the variable)."""
    monkeypatch.setenv("OPENEIS_STORE", store_url)
    return store_url
