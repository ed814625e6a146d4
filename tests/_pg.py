"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` binaries, a cluster in a temporary
folder, listening on a free localhost port (and a unix socket in that folder), stopped at session end.

As root, `initdb` and the server refuse to run: they run as the ``postgres`` system user (created by the
Debian package) through ``runuser``, with the folder given to it. As another user they run as that user.
Tests that need the server skip with the reason only where it can't be started (no binaries; root
without a ``postgres`` user or ``runuser``).

Use: ``from _pg import pg_server, pg_url  # noqa: F401`` in a test module; ``pg_url`` is a fresh, empty
database per test.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT_S = 60
_counter = itertools.count()


@dataclass(frozen=True)
class PgServer:
    port: int
    user: str
    folder: Path

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def create_db(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')  # type: ignore[call-overload]
        return self.url(name)


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parts[4]) if p.parts[4].isdigit() else 0)
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runner() -> tuple[list[str], int | None, int | None] | str:
    """The command prefix that runs the server binaries, and the uid/gid to give the folder; or why not."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        return "running as root and there is no 'postgres' user to run the server as"
    runuser = shutil.which("runuser")
    if runuser is None:
        return "running as root and there is no runuser to run the server as 'postgres'"
    return [runuser, "-u", "postgres", "--"], pw.pw_uid, pw.pw_gid


@contextlib.contextmanager
def running_server(*, fsync: bool = False) -> Iterator[PgServer]:
    """Start a throwaway cluster; stop and remove it on exit. Raises `RuntimeError` if it can't start,
    `LookupError` (with the reason) if it can't even be tried here. ``fsync`` off by default: the tests
    are about transactions and locks, not power cuts (a benchmark turns it on)."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise LookupError("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin; "
                          "apt-get install postgresql)")
    run = _runner()
    if isinstance(run, str):
        raise LookupError(run)
    prefix, uid, gid = run
    folder = Path(tempfile.mkdtemp(prefix="wocheck-pg-"))  # under /tmp: reachable by the postgres user
    data, log = folder / "data", folder / "server.log"
    if uid is not None and gid is not None:
        os.chown(folder, uid, gid)
    user = "wocheck"
    port = _free_port()
    started = False
    try:
        subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust",
                        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                       check=True, capture_output=True, timeout=START_TIMEOUT_S)
        opts = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync={'on' if fsync else 'off'} "
                "-c max_connections=40")
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts,
                        "-w", "-t", str(START_TIMEOUT_S), "start"],
                       check=True, capture_output=True, timeout=START_TIMEOUT_S + 10)
        started = True
        yield PgServer(port=port, user=user, folder=folder)
    except subprocess.CalledProcessError as e:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"PostgreSQL didn't start: {e.stderr.decode(errors='replace')}\n{tail}") from e
    finally:
        if started:
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True, timeout=START_TIMEOUT_S)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        with running_server() as server:
            yield server
    except LookupError as e:
        pytest.skip(f"no PostgreSQL server for the tests: {e}")


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.create_db(f"t{os.getpid()}_{next(_counter)}")
