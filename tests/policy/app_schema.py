"""The small application schema that tests/policy/sample.yaml describes, for check and ropa tests."""

from __future__ import annotations

import sqlalchemy as sa


def build_sample_app(url: str, *, index_bookings_fk: bool = True, extra_columns: bool = False) -> sa.Engine:
    """Create end_users, bookings and system_logs in the database at ``url``."""
    from tutela.store.database import make_engine

    metadata = sa.MetaData()
    users = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False, index=True),
        sa.Column("email", sa.String(255), nullable=False, index=True),
        sa.Column("phone", sa.String(100), index=True),
        sa.Column("full_name", sa.String(200)),
    ]
    if extra_columns:
        users.append(sa.Column("home_address", sa.String(200)))
    sa.Table("end_users", metadata, *users)
    sa.Table(
        "bookings", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("end_user_id", sa.Integer, sa.ForeignKey("end_users.id"), nullable=False,
                  index=index_bookings_fk),
        sa.Column("notes", sa.Text),
    )
    sa.Table(
        "system_logs", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_email", sa.String(255), index=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    if extra_columns:
        sa.Table("newsletter_signups", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("email_address", sa.String(255)), sa.Column("signed_at", sa.DateTime))
    engine = make_engine(url)
    metadata.create_all(engine)
    return engine
