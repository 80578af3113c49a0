"""A throw-away PostgreSQL server for the store tests: initdb into a temporary directory, pg_ctl start.

The server listens on 127.0.0.1 at a free port with trust authentication, runs with fsync off (the
data is thrown away), and is stopped and deleted at the end. PostgreSQL refuses to run as root: as
root, initdb and pg_ctl run as the `postgres` user (Debian's postgresql package creates it), in a
directory that user owns.

Without the server binaries the tests that need it are skipped, with the apt-get line to install
them; under CI (`CI=true`) that is a failure instead, never a silent skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MISSING = "PostgreSQL server binaries (initdb) not found: apt-get install postgresql"
UNPRIVILEGED_USER = "postgres"
DATABASE = "fitlab_test"


def find_binary(name: str) -> str | None:
    """`name` on PATH, else the newest Debian install under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> int:
        number = Path(path).parts[-3]  # /usr/lib/postgresql/<version>/bin/<name>
        return int(number) if number.isdigit() else 0

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    return candidates[-1] if candidates else None


def skip_or_fail(reason: str) -> None:
    """Skip with the reason; under CI fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a missing PostgreSQL server is a failure; .ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_user() -> list[str]:
    """The command prefix that runs a server binary as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        skip_or_fail(f"running as root and there is no {UNPRIVILEGED_USER!r} user to run PostgreSQL as")
    runuser = shutil.which("runuser")
    return [runuser, "-u", UNPRIVILEGED_USER, "--"] if runuser else ["su", UNPRIVILEGED_USER, "-s", "/bin/sh", "-c"]


def _run(prefix: list[str], argv: list[str]) -> None:
    # su -c takes one shell string; runuser (and no prefix) take the argv as is
    command = [*prefix, " ".join(map(shlex.quote, argv))] if prefix[:1] == ["su"] else [*prefix, *argv]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server, create DATABASE, yield its SQLAlchemy URL; stop and delete it afterwards."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        skip_or_fail(MISSING)
        raise AssertionError("unreachable")
    prefix = _as_user()
    # Not under pytest's tmp_path: as root that is mode 0700 and the postgres user could not enter it.
    root = Path(tempfile.mkdtemp(prefix="fitlab-pg-"))
    data, log = root / "data", root / "server.log"
    if prefix:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    started = False
    try:
        _run(prefix, [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        _run(prefix, [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"])
        started = True
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            try:
                _run(prefix, [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop"])
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"could not stop the test PostgreSQL server: {exc}")
        shutil.rmtree(root, ignore_errors=True)
