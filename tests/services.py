"""Real services for the tests: a Mosquitto broker and a PostgreSQL server on loopback.

Each runs from a private temporary directory on a free port, started by a pytest fixture in
``conftest.py`` and stopped when the session (or the test) ends. ``scripts/setup --test``
installs the Debian packages (``mosquitto``, ``postgresql``); when a binary is missing the
fixture fails with what to install rather than skipping silently.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _find_binary(name: str, *dirs: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for directory in dirs:
        candidates = sorted(Path("/").glob(directory.lstrip("/") + "/" + name), reverse=True)
        if candidates:
            return str(candidates[0])
    raise RuntimeError(f"{name} not found: run scripts/setup --test (installs the Debian package)")


class Mosquitto:
    """A Mosquitto broker on a random loopback port, with persistence so restarts keep QoS 1.

    ``autosave_interval``: seconds between saves of the persistence file. The tests use 1, so
    a broker killed mid-test has its QoS 1 messages on disk; benchmarks use Mosquitto's
    default of 1800, as a site would (each save stops the single-threaded broker while it
    writes the file)."""

    def __init__(self, workdir: Path, *, autosave_interval: int = 1) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.host = "127.0.0.1"
        self._process: subprocess.Popen[bytes] | None = None
        self._binary = _find_binary("mosquitto", "/usr/sbin")
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "set_tcp_nodelay true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            f"autosave_interval {autosave_interval}\n"
            "max_queued_messages 100000\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n" + ("user root\n" if os.geteuid() == 0 else "")
            # as root Mosquitto drops to the 'mosquitto' user, which cannot write the
            # persistence file into a private pytest directory: stay root instead
        )

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        """Start (or restart) the broker on the same port with the same persistence file."""
        log = (self.workdir / "mosquitto.log").open("ab")
        self._process = subprocess.Popen(
            [self._binary, "-c", str(self.config)], stdout=log, stderr=log
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the broker cleanly (it saves its persistence file on SIGTERM)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Postgres:
    """A throw-away PostgreSQL cluster (initdb) on a random loopback port.

    PostgreSQL refuses to run as root; as root the cluster belongs to the ``postgres`` user
    that the Debian package creates.
    """

    def __init__(self) -> None:
        bindirs = ("/usr/lib/postgresql/*/bin",)
        self.initdb = _find_binary("initdb", *bindirs)
        self.pg_ctl = _find_binary("pg_ctl", *bindirs)
        if "/usr/lib/postgresql" not in self.initdb:
            # Debian's /usr/bin wrappers need a configured cluster; use the real binaries
            real = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
            if real:
                self.initdb = str(real[0])
                self.pg_ctl = str(real[0].with_name("pg_ctl"))
        # not under pytest's tmp_path: as root that is private to root, out of postgres's reach
        self.workdir = Path(tempfile.mkdtemp(prefix="shouwang-pg-"))
        self.port = free_port()
        self.datadir = self.workdir / "data"
        self._user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.workdir, owner.pw_uid, owner.pw_gid)
            self._user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        """A SQLAlchemy URL (psycopg 3) for the ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._user, *args], check=False, capture_output=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.decode()[-2000:]}")

    def start(self) -> None:
        if not self.datadir.exists():
            self._run(self.initdb, "-D", str(self.datadir), "-U", "postgres", "-A", "trust")
        self._run(
            self.pg_ctl, "-D", str(self.datadir), "-l", str(self.workdir / "postgres.log"),
            "-o", f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "-w", "start",
        )  # fmt: skip
        _wait_for_port(self.port)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run(self.pg_ctl, "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """A fresh empty database; its SQLAlchemy URL."""
        self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q",
            "-c", f'CREATE DATABASE "{name}"',
        )  # fmt: skip
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"
