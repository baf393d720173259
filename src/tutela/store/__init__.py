"""Tutela's own tables (requests, consent, audit, suppression, jobs …), migrated with Alembic."""

from tutela.store.database import Store
from tutela.store.tables import metadata

__all__ = ["Store", "metadata"]
