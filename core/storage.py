"""Storage: the one SQL database the registry (and later the recorder and sightings) share.

SQLAlchemy Core 2.x on SQLite by default (``<config>/shouwang.db``); any SQLAlchemy URL (e.g.
``postgresql+psycopg://…``) by configuration. Each user module owns its own ``MetaData`` and
asks :meth:`Storage.create_tables` for it; work happens inside :meth:`Storage.transaction`.

Every method here is *blocking* (it talks to the database). Never call them on the event loop:
run them in an executor, e.g. ``await hub.loop.run_in_executor(None, storage.create_tables,
metadata)`` or ``await asyncio.to_thread(work, storage)``. The hub is the only writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, MetaData, create_engine, event

DB_FILE: Final = "shouwang.db"


def default_url(config_dir: str | Path) -> str:
    """The SQLite URL of ``<config_dir>/shouwang.db``."""
    return f"sqlite:///{Path(config_dir).resolve() / DB_FILE}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Storage:
    """An engine on one database URL. Blocking: use from an executor (see the module doc)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @classmethod
    def open(cls, config_dir: str | Path, url: str | None = None) -> Storage:
        """The storage of a config directory: ``url`` if given, else its SQLite file."""
        Path(config_dir).mkdir(parents=True, exist_ok=True)
        return cls(url or default_url(config_dir))

    @property
    def dialect(self) -> str:
        """``sqlite``, ``postgresql`` …"""
        return self.engine.dialect.name

    def create_tables(self, metadata: MetaData) -> None:
        """Create the tables of ``metadata`` that do not exist yet (blocking)."""
        metadata.create_all(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in a transaction: committed on success, rolled back on error."""
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()
