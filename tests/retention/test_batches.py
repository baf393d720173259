"""Pieces of the batch planner that the runs rely on: sampling the table by storage position."""

from __future__ import annotations

import sqlalchemy as sa

from tutela.retention import batches


def test_samples_are_the_first_rows_at_or_after_evenly_spaced_rowids(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    metadata = sa.MetaData()
    table = sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String))
    metadata.create_all(engine)
    with engine.begin() as conn:  # rowids 10, 20, …, 1000: most points fall in a gap
        conn.execute(table.insert(), [{"id": i, "v": f"v{i}"} for i in range(10, 1001, 10)])
    with engine.connect() as conn:
        ranges = batches.physical_ranges(conn, table, 50)
        assert (ranges.first, ranges.end) == (10, 1001)
        # points 10, 257, 505, 753 (one statement for all of them)
        assert batches._sample(conn, table, [table.c.v, table.c.id], ranges, 4) == [
            ("v10", 10), ("v260", 260), ("v510", 510), ("v760", 760)]
        assert batches._sample(conn, table, [table.c.id], ranges, 0) == []
        conn.rollback()
        with conn.begin():
            conn.execute(table.delete().where(table.c.id > 500))
        # points past the last row find nothing and are left out
        assert [row[0] for row in batches._sample(conn, table, [table.c.id], ranges, 4)] == [10, 260]
    engine.dispose()
