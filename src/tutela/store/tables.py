"""The shared MetaData of the engine store, and the foundation's own tables.

Each area defines its tables in ``tutela/<area>/tables.py`` on this ``metadata`` and ships an
Alembic migration in ``store/migrations/versions/`` on its own branch (``down_revision`` =
``"0001_base"``, ``branch_labels = ("<area>",)``); the store upgrades to all heads.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Facts about this store itself (created time, policy fingerprint of the last run …).
store_meta = sa.Table(
    "tutela_meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
