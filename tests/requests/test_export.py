"""Access and portability exports on SQLite, PostgreSQL and MariaDB: every mapped row of the
subject, nothing of anyone else, checked against direct SQL."""

import csv
import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from requests_world import ALICE, BOB, customers, login_events, order_items, orders

from tutela.requests.model import Status
from tutela.requests.service import RequestService


def _run(tutela, kind, email, tenant="t1"):
    service = RequestService(tutela, actor="operator:test", tenant=tenant)
    req = service.create(kind, [("email", email)])
    service.mark_verified(req.id, "test")
    done = service.run(req.id)
    assert done.status is Status.COMPLETED
    return service, done, zipfile.ZipFile(io.BytesIO(service.export_bytes(req.id)))


def _expected(tutela, tenant, email):
    """The subject's rows by hand-written SQL, one query per table."""
    engine = tutela.system_engine("shop")
    with engine.connect() as conn:
        ids = conn.execute(sa.select(customers.c.id).where(customers.c.email == email,
                                                           customers.c.tenant_id == tenant)).scalars().all()
        order_ids = conn.execute(sa.select(orders.c.id).where(orders.c.customer_id.in_(ids))).scalars().all()
        return {
            "shop.customers": set(ids),
            "shop.orders": set(order_ids),
            "shop.order_items": set(conn.execute(sa.select(order_items.c.id)
                                                 .where(order_items.c.order_id.in_(order_ids))).scalars()),
            "shop.login_events": set(conn.execute(sa.select(login_events.c.id).where(
                login_events.c.user_email == email, login_events.c.tenant_id == tenant)).scalars()),
        }


def test_access_export_holds_every_row_of_the_subject_and_nothing_else(shop):
    _service, done, archive = _run(shop, "access", ALICE)
    expected = _expected(shop, "t1", ALICE)
    assert expected["shop.customers"] == {1} and len(expected["shop.login_events"]) == 2
    names = set(archive.namelist())
    for table, ids in expected.items():
        rows = json.loads(archive.read(f"tables/{table}.json"))
        assert {r["id"] for r in rows} == ids, table
        with archive.open(f"tables/{table}.csv") as handle:
            reader = list(csv.DictReader(io.TextIOWrapper(handle, "utf-8")))
        assert {int(r["id"]) for r in reader} == ids
    assert "tables/shop.products.json" not in names
    text = b"".join(archive.read(n) for n in names).decode()
    for foreign in (BOB, "Bob B", "Alice in t2", "t2 gift", "10.9.9.9", "2 Side St", "4 Far St"):
        assert foreign not in text
    customer = json.loads(archive.read("tables/shop.customers.json"))[0]
    assert customer["full_name"] == "Alice A" and customer["credit_score"] == 700
    assert done.result["export"]["rows"] == sum(len(v) for v in expected.values())


def test_the_other_tenant_gets_only_its_own_alice(shop):
    _service, _done, archive = _run(shop, "access", ALICE, tenant="t2")
    customers_rows = json.loads(archive.read("tables/shop.customers.json"))
    assert [c["id"] for c in customers_rows] == [4]
    assert [r["id"] for r in json.loads(archive.read("tables/shop.login_events.json"))] == [1003]
    assert "Alice A" not in archive.read("tables/shop.customers.json").decode()


def test_manifest_gives_the_article_15_information(shop):
    _service, done, archive = _run(shop, "access", ALICE)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["article"] == "Art. 15" and manifest["request"]["id"] == done.id
    assert manifest["controller"]["name"] == "Shop Ltd"
    tables = {f"{t['system']}.{t['table']}": t for t in manifest["tables"]}
    email = tables["shop.customers"]["fields"]["email"]
    assert email["purpose"] == "service" and email["lawful_basis"] == "contract"
    assert email["lawful_basis_article"] == "Art. 6(1)(b)"
    assert email["recipients"] == [{"name": "mailer", "purpose": "e-mail delivery", "country": "DE",
                                    "transfer_mechanism": None}]
    assert tables["shop.customers"]["fields"]["full_name"]["retention"] == "3 years after the last order"
    assert tables["shop.customers"]["fields"]["signed_up"] == {"declared": False}
    assert tables["shop.login_events"]["fields"]["ip"]["lawful_basis"] == "legitimate_interests"
    assert tables["shop.orders"]["rows"] == 2
    assert "Art. 77" in manifest["your_rights"]
    requests = json.loads(archive.read("engine/requests.json"))
    assert [r["id"] for r in requests] == [done.id]
    for name in ("consent_history", "restrictions", "suppression"):
        assert json.loads(archive.read(f"engine/{name}.json")) == []


def test_portability_holds_only_provided_fields_on_consent_or_contract(shop):
    _service, _done, archive = _run(shop, "portability", ALICE)
    customer = json.loads(archive.read("tables/shop.customers.json"))
    assert customer == [{"email": ALICE, "phone": "+4930901820", "full_name": "Alice A"}]
    assert json.loads(archive.read("manifest.json"))["article"] == "Art. 20"
    # login events are processed on legitimate interests: not portable (Art. 20(1)(a))
    assert "tables/shop.login_events.json" not in archive.namelist()
    assert sorted(r["shipping_address"] for r in json.loads(archive.read("tables/shop.orders.json"))) == \
        ["1 Main St", "1 Main St"]


def test_the_stored_export_is_sealed_and_identities_are_wiped(shop):
    service, done, _archive = _run(shop, "access", ALICE)
    stored = (service.export_dir() / done.result["export"]["file"]).read_bytes()
    assert not stored.startswith(b"PK") and b"Alice A" not in stored
    from tutela.requests.tables import requests
    with shop.store.engine.connect() as conn:
        assert conn.execute(sa.select(requests.c.sealed).where(requests.c.id == done.id)).scalar() is None


def test_a_subject_with_no_data_gets_an_empty_export(shop):
    _service, done, archive = _run(shop, "access", "nobody@example.org")
    assert done.result["export"]["rows"] == 0
    assert json.loads(archive.read("tables/shop.customers.json")) == []


@pytest.mark.parametrize("kind", ["erasure", "restriction"])
def test_requests_without_export_refuse_export(sqlite_shop, kind):
    from tutela.errors import Conflict

    service = RequestService(sqlite_shop, actor="op", tenant="t1")
    req = service.create(kind, [("email", ALICE)])
    with pytest.raises(Conflict):
        service.export_bytes(req.id)


@pytest.mark.parametrize("tenant", [None, "t1"])
def test_engine_records_are_what_the_consent_restriction_and_suppression_modules_return(sqlite_shop, tenant):
    from tutela.consent.ledger import consent_history, give_consent
    from tutela.consent.notices import create_notice
    from tutela.consent.restrictions import restrict, restriction_history
    from tutela.crypto.hashing import keyed_hashes, pseudonym
    from tutela.erasure.suppression import entries_for, suppress
    from tutela.requests.export import _jsonable_row, engine_records

    tutela = sqlite_shop
    create_notice(tutela, "marketing", "We send a newsletter.", actor="op")
    subject = pseudonym(tutela.keyring, "email", ALICE)
    give_consent(tutela, subject, "marketing", actor="op", tenant="t1")
    give_consent(tutela, subject, "marketing", actor="op", tenant="t2")
    give_consent(tutela, pseudonym(tutela.keyring, "email", BOB), "marketing", actor="op", tenant="t1")
    restrict(tutela, subject, kind="objection", purpose="marketing", tenant="t1", reason="request 1", actor="op")
    suppress(tutela, "email", ALICE, reason="unsubscribe")
    suppress(tutela, "email", BOB, reason="unsubscribe")
    RequestService(tutela, actor="op", tenant="t1").create("access", [("email", ALICE)])

    records = engine_records(tutela, subject, tenant, [("email", ALICE)])
    assert records["consent_history"] == consent_history(tutela, subject, tenant=tenant)
    assert len(records["consent_history"]) == (1 if tenant else 2)
    assert records["restrictions"] == restriction_history(tutela, subject, tenant=tenant) != []
    assert records["suppression"] == [_jsonable_row(e) for e in entries_for(tutela, keyed_hashes(tutela.keyring,
                                                                                                "email", ALICE))]
    assert len(records["suppression"]) == 1 and len(records["requests"]) == 1
    assert engine_records(tutela, "t1:000000:" + "0" * 64, tenant, [("email", "nobody@example.org")]) == \
        {"consent_history": [], "restrictions": [], "requests": [], "suppression": []}


def test_small_zip_members_are_stored_and_large_ones_deflated(sqlite_shop):
    from datetime import datetime

    from tutela.requests.export import STORE_BELOW, TableRows, build_zip

    big = TableRows("shop", "customers", ["id", "note"], [{"id": i, "note": "x" * 40} for i in range(200)])
    small = TableRows("shop", "orders", ["id"], [{"id": 1}])
    data = build_zip(sqlite_shop, [big, small], {"requests": []}, request={"id": "r1", "type": "access"},
                     portability=False, generated_at=datetime(2026, 1, 1))
    archive = zipfile.ZipFile(io.BytesIO(data))
    for info in archive.infolist():
        expected = zipfile.ZIP_STORED if info.file_size < STORE_BELOW else zipfile.ZIP_DEFLATED
        assert info.compress_type == expected, info.filename
    assert archive.getinfo("tables/shop.customers.json").compress_type == zipfile.ZIP_DEFLATED
    assert archive.getinfo("tables/shop.orders.json").compress_type == zipfile.ZIP_STORED
    assert json.loads(archive.read("tables/shop.customers.json")) == big.rows
    assert json.loads(archive.read("tables/shop.orders.json")) == [{"id": 1}]


def test_repeated_exports_keep_one_compiled_statement_per_reused_plan(shop):
    import gc

    from tutela.requests.export import _compiled_plans, collect_rows
    from tutela.subjects import SubjectGraph

    graph = SubjectGraph.cached(shop, "customer")
    keys = graph.resolve("email", ALICE, tenant="t1")
    first = collect_rows(shop, graph, keys, tenant="t1")
    kept = len(_compiled_plans.get(graph, {}))
    for _ in range(5):  # login_events is tied by e-mail: its SELECT is built anew for every request
        assert [len(t.rows) for t in collect_rows(shop, graph, keys, tenant="t1")] == [len(t.rows) for t in first]
    assert len(_compiled_plans.get(graph, {})) == kept
    assert kept == (3 if shop.system_engine("shop").dialect.name == "postgresql" else 0)
    before = len(_compiled_plans)
    shop.schema("shop", refresh=True)
    SubjectGraph.cached(shop, "customer")  # the old graph goes, and its compiled statements with it
    del graph
    gc.collect()
    assert len(_compiled_plans) <= max(before - 1, 0)
