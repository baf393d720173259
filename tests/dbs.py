"""Fresh throwaway databases on the three supported engines, for tests and benchmarks.

PostgreSQL: 127.0.0.1:5432, trust auth (``TUTELA_TEST_PG``); MariaDB: 127.0.0.1:3306, root with
no password (``TUTELA_TEST_MARIADB``). Each call creates a database with a random name and drops
it afterwards, so parallel runs never share state.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN = os.environ.get("TUTELA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN = os.environ.get("TUTELA_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
KINDS = ("sqlite", "postgresql", "mariadb")


class ServerUnavailable(Exception):
    pass


def server_available(kind: str) -> str | None:
    """None when the server answers; otherwise the reason it does not."""
    if kind == "sqlite":
        return None
    url = PG_ADMIN if kind == "postgresql" else MARIADB_ADMIN
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{kind} server not reachable at {engine.url.render_as_string(hide_password=True)}: " \
               f"{str(exc).splitlines()[0]}"
    finally:
        engine.dispose()


@contextlib.contextmanager
def fresh_database(kind: str, tmp_dir: Path) -> Iterator[str]:
    """Yield the URL of a new empty database of ``kind``; drop it afterwards."""
    name = f"tutela_t_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        yield f"sqlite:///{tmp_dir / (name + '.db')}"
        return
    admin_url = PG_ADMIN if kind == "postgresql" else MARIADB_ADMIN
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}" + (" CHARACTER SET utf8mb4" if kind == "mariadb" else ""))
        url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        yield url
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()
