"""The subject graph: nodes from parent links, identity links and reflected FKs; one filter per table."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

from world import (  # noqa: E402
    answers,
    bookings,
    create_schema,
    end_users,
    make_tutela,
    policy_text,
    populate,
    rows,
    system_logs,
)

from tutela.errors import InvalidInput, NotFound, SchemaMismatch  # noqa: E402
from tutela.store.database import make_engine  # noqa: E402
from tutela.subjects import SUBJECT_ID, SubjectGraph, read_connection  # noqa: E402


@pytest.fixture
def app(db_url, store_url, tmp_path):
    engine = create_schema(db_url)
    populate(engine)
    tutela = make_tutela(db_url, store_url, tmp_path)
    yield tutela, engine
    tutela.close()
    engine.dispose()


def test_nodes_children_first_with_depth_three(app):
    tutela, _ = app
    graph = SubjectGraph.build(tutela, "end_user")
    order = [(n.name, n.depth) for n in graph.nodes_children_first()]
    assert order[0] == ("answers", 2)
    names = [name for name, _ in order]
    assert names.index("answers") < names.index("bookings") < names.index("end_users")
    assert names.index("system_logs") < names.index("end_users")
    assert "newsletter_contacts" not in names  # another subject
    bookings_node = graph.nodes["app.bookings"]
    assert (bookings_node.parent_column, bookings_node.parent_references) == ("end_user_id", "id")  # from the FK
    assert isinstance(bookings_node.table, sa.Table)


def test_rows_select_finds_exactly_the_subjects_rows_through_fk_path(app):
    tutela, engine = app
    graph = SubjectGraph.build(tutela, "end_user")
    keys = [2, 3]
    with engine.connect() as conn:
        found = {n.name: sorted(r.id for r in conn.execute(n.rows_select(keys))) for n in graph.nodes.values()}
    assert found["end_users"] == [2, 3]
    assert found["bookings"] == [20, 21, 30, 31]
    assert found["answers"] == [200, 201, 210, 211, 300, 301, 310, 311]
    assert found["system_logs"] == [2, 3]


def test_row_filter_works_in_update_and_delete(app):
    tutela, engine = app
    graph = SubjectGraph.build(tutela, "end_user")
    node = graph.nodes["app.answers"]
    with engine.begin() as conn:
        deleted = conn.execute(sa.delete(node.table).where(node.row_filter([4]))).rowcount
    assert deleted == 4
    assert not rows(engine, answers, answers.c.booking_id.in_([40, 41]))
    assert len(rows(engine, answers)) == 6 * 4 - 4


def test_resolve_by_email_phone_and_id(app):
    tutela, _ = app
    graph = SubjectGraph.build(tutela, "end_user")
    assert graph.resolve("email", "  USER3@example.ORG ") == [3]  # stored as User3@Example.org: matched as given
    assert graph.resolve("email", "User3@Example.org") == [3]
    assert graph.resolve("phone", "+49 30 12345603") == [3]
    assert graph.resolve(SUBJECT_ID, "5") == [5]
    assert graph.resolve("email", "nobody@example.org") == []


def test_resolve_with_identities_reads_the_stored_identifiers_in_the_same_match(app):
    tutela, engine = app
    graph = SubjectGraph.build(tutela, "end_user")
    assert graph.resolve_with_identities("email", "user3@example.org") == (
        [3], [("email", "User3@Example.org"), ("phone", "+493012345603")])
    with engine.begin() as conn:
        conn.execute(end_users.update().where(end_users.c.id == 4).values(phone=None))
    assert graph.resolve_with_identities(SUBJECT_ID, "4") == ([4], [("email", "User4@Example.org")])
    assert graph.resolve_with_identities("email", "nobody@example.org") == ([], [])


def test_resolve_scoped_by_tenant(app):
    tutela, _ = app
    graph = SubjectGraph.build(tutela, "end_user")
    # user 3 belongs to tenant globex (3 % 2 == 1)
    assert graph.resolve("email", "User3@Example.org", tenant="globex") == [3]
    assert graph.resolve("email", "User3@Example.org", tenant="acme") == []
    node = graph.nodes["app.answers"]
    with tutela.system_engine("app").connect() as conn:
        assert conn.execute(node.rows_select([3], tenant="acme")).all() == []


def test_resolve_rejects_malformed_identifiers(app):
    tutela, _ = app
    graph = SubjectGraph.build(tutela, "end_user")
    with pytest.raises(InvalidInput):
        graph.resolve("email", "not-an-email")
    with pytest.raises(InvalidInput):
        graph.resolve("phone", "call me maybe")
    with pytest.raises(InvalidInput):
        graph.resolve(SUBJECT_ID, "abc")
    with pytest.raises(InvalidInput):
        graph.resolve("fax", "123")


def test_unknown_subject_is_not_found(app):
    tutela, _ = app
    with pytest.raises(NotFound, match="not declared"):
        SubjectGraph.build(tutela, "robot")


def test_missing_parent_foreign_key_is_a_schema_mismatch(db_url, store_url, tmp_path):
    engine = create_schema(db_url)
    meta = sa.MetaData()
    sa.Table("loose", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("owner", sa.Integer))
    meta.create_all(engine)
    text = policy_text(db_url, store_url).replace(
        "      system_logs:\n",
        "      loose:\n        parent: end_users\n        purpose: service\n"
        "        fields:\n          owner: {category: user.unique_id}\n      system_logs:\n")
    tutela = make_tutela(db_url, store_url, tmp_path, text=text)
    try:
        with pytest.raises(SchemaMismatch, match="no foreign key"):
            SubjectGraph.build(tutela, "end_user")
    finally:
        tutela.close()
        engine.dispose()


def test_explicit_parent_column_is_used(db_url, store_url, tmp_path):
    engine = create_schema(db_url)
    meta = sa.MetaData()
    sa.Table("loose", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("owner", sa.Integer))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(end_users.insert(), [dict(id=1, tenant_id="a", email="a@example.org", status="x")])
        conn.execute(sa.text("INSERT INTO loose (id, owner) VALUES (1, 1), (2, 9)"))
    text = policy_text(db_url, store_url).replace(
        "      system_logs:\n",
        "      loose:\n        parent: {table: end_users, column: owner}\n        purpose: service\n"
        "        fields:\n          owner: {category: user.unique_id}\n      system_logs:\n")
    tutela = make_tutela(db_url, store_url, tmp_path, text=text)
    try:
        graph = SubjectGraph.build(tutela, "end_user")
        node = graph.nodes["app.loose"]
        with engine.connect() as conn:
            assert [r.id for r in conn.execute(node.rows_select([1]))] == [1]
    finally:
        tutela.close()
        engine.dispose()


def test_unused_tables_are_not_touched_by_selects(app):
    tutela, engine = app
    graph = SubjectGraph.build(tutela, "end_user")
    assert {n.name for n in graph.nodes.values()} == {"end_users", "bookings", "answers", "system_logs"}
    assert rows(engine, bookings, bookings.c.end_user_id == 1)
    assert rows(engine, system_logs, system_logs.c.id == 1)


def _in_transaction(conn: sa.Connection) -> bool:
    from psycopg.pq import TransactionStatus

    return conn.connection.driver_connection.info.transaction_status != TransactionStatus.IDLE


def test_read_connection_on_postgresql_sends_no_begin_at_read_committed(pg_url):
    engine = make_engine(pg_url)
    try:
        with read_connection(engine) as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
            assert not _in_transaction(conn)  # autocommit: nothing to roll back on return
        with engine.connect() as conn:  # the pooled connection is back to transactions
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            assert _in_transaction(conn)
            conn.rollback()
            assert not sa.inspect(conn).has_table("t")
    finally:
        engine.dispose()


def test_read_connection_keeps_the_transaction_at_a_stricter_isolation_level(pg_url):
    engine = make_engine(pg_url, isolation_level="REPEATABLE READ")
    try:
        with read_connection(engine) as conn:
            conn.execute(sa.text("SELECT 1"))
            assert _in_transaction(conn)  # one snapshot for every SELECT of the run
    finally:
        engine.dispose()


def test_read_connection_is_in_autocommit_only_on_postgresql(app):
    tutela, _ = app
    engine = tutela.system_engine("app")
    with read_connection(engine) as conn:
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        assert autocommit == (engine.dialect.name == "postgresql")
        assert conn.execute(sa.select(end_users.c.id).where(end_users.c.id == 2)).scalar() == 2


def test_cached_graph_is_reused_until_the_schema_is_reflected_again(app):
    tutela, _ = app
    graph = SubjectGraph.cached(tutela, "end_user")
    assert SubjectGraph.cached(tutela, "end_user") is graph
    assert graph.resolve("email", "user2@example.org") == [2]
    tutela.schema("app", refresh=True)
    fresh = SubjectGraph.cached(tutela, "end_user")
    assert fresh is not graph and fresh.root.table is tutela.table("app", "end_users")
    assert fresh.resolve("email", "user2@example.org") == [2]


def test_the_resolving_select_binds_the_identifier_and_is_built_once(app):
    tutela, _ = app
    graph = SubjectGraph.build(tutela, "end_user")
    seen: list[str] = []
    engine = tutela.system_engine("app")
    listener = lambda *args: seen.append(args[2])  # noqa: E731  (conn, cursor, statement, …)
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        assert graph.resolve("email", "User2@Example.org") == [2]  # as stored: the indexed match
        assert graph.resolve("email", "User3@Example.org") == [3]
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert len(seen) == 2 and seen[0] == seen[1]  # one statement text for every subject
    assert "example.org" not in seen[0].lower()
    assert len(graph._matches) == 1


def test_identity_forms_are_read_once_inside_identities_read_once(app):
    tutela, _ = app
    graph = SubjectGraph.build(tutela, "end_user")
    logs = graph.nodes["app.system_logs"]
    reads: list[str] = []
    engine = tutela.system_engine("app")
    listener = lambda *args: reads.append(args[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        logs.row_filter([2])
        logs.row_filter([2])
        assert len(reads) == 2  # outside the block: read each time
        with graph.identities_read_once():
            first = logs.rows_select([2])
            logs.row_filter([2])
            logs.row_filter([3])  # other subjects: read for them
        assert len(reads) == 4
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    with engine.connect() as conn:
        assert [r.id for r in conn.execute(first)] == [2]


@pytest.mark.parametrize("tenant", [None, "globex"])
def test_row_filters_select_what_each_nodes_row_filter_selects(app, tenant):
    tutela, engine = app
    graph = SubjectGraph.build(tutela, "end_user")
    filters = graph.row_filters([2, 3], tenant)
    assert set(filters) == set(graph.nodes)
    with engine.connect() as conn:
        for key, node in graph.nodes.items():
            shared = sorted(r.id for r in conn.execute(sa.select(node.table).where(filters[key])))
            alone = sorted(r.id for r in conn.execute(sa.select(node.table).where(node.row_filter([2, 3], tenant))))
            assert shared == alone, key
    assert graph.row_filters([], tenant)["app.answers"].compare(sa.false())
