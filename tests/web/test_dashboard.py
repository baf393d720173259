"""The dashboard over HTTP: sign-in, session cookie flags, CSRF on every form, the request queue
with overdue highlighted, request actions, and the consent, retention, audit and record pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service_world import ALICE, BOB, hidden, sign_in
from tutela.requests.service import RequestService


def _request(world, tenant="t1", email=ALICE, type="access", received_at=None):
    service = RequestService(world.tutela, "test", tenant=tenant)
    return service.create(type, [("email", email)], received_at=received_at)


def test_sign_in_sets_a_strict_httponly_session_cookie(client, world):
    form = client.get("/dashboard/login")
    assert form.status_code == 200 and 'type="password"' in form.text
    response = client.post("/dashboard/login", data={"key": world.key("dpo"), "csrf": hidden(form.text, "csrf")})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"].lower()
    assert "tutela_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # plain HTTP in this test; under TLS see tests/integration/test_tls.py
    assert world.key("dpo") not in response.headers["set-cookie"]


def test_sign_in_without_the_form_token_is_refused(client, world):
    response = client.post("/dashboard/login", data={"key": world.key("dpo")})
    assert response.status_code == 403
    assert "tutela_session" not in response.headers.get("set-cookie", "")


def test_wrong_key_shows_the_form_again(client):
    form = client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"key": "tk_000000000000_" + "A" * 43,
                                                     "csrf": hidden(form.text, "csrf")})
    assert response.status_code == 401 and "not valid" in response.text


def test_pages_need_a_session_and_a_forged_cookie_does_not_work(client):
    assert client.get("/dashboard").headers["location"] == "/dashboard/login"
    client.cookies.set("tutela_session", "eyJrIjoiYWJjIn0.AAAA")
    assert client.get("/dashboard").headers["location"] == "/dashboard/login"


def test_queue_highlights_overdue_and_sorts_by_due_date(client, world):
    old = _request(world, received_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=45))
    fresh = _request(world, email=BOB)
    sign_in(client, world.key("dpo", "t1"))
    page = client.get("/dashboard").text
    assert page.index(old.id) < page.index(fresh.id)
    start = page.rindex("<tr", 0, page.index(old.id))
    row = page[start:page.index("</tr>", start)]
    assert row.startswith('<tr class="overdue"') and "overdue</span>" in row
    start = page.rindex("<tr", 0, page.index(fresh.id))
    assert 'class="overdue"' not in page[start:page.index("</tr>", start)]


def test_queue_shows_only_the_keys_tenant(client, world):
    theirs = _request(world, tenant="t2")
    sign_in(client, world.key("dpo", "t1"))
    assert theirs.id not in client.get("/dashboard?show=all").text
    assert client.get(f"/dashboard/requests/{theirs.id}").status_code == 404


def test_form_post_without_csrf_changes_nothing(client, world):
    created = _request(world)
    sign_in(client, world.key("dpo", "t1"))
    response = client.post(f"/dashboard/requests/{created.id}/mark-verified", data={"reason": "known"})
    assert response.status_code == 403
    assert RequestService(world.tutela, "t", tenant="t1").show(created.id).status.value == "received"


def test_verify_run_and_download_from_the_detail_page(client, world):
    created = _request(world)
    csrf = sign_in(client, world.key("dpo", "t1"))
    url = f"/dashboard/requests/{created.id}"
    assert client.post(f"{url}/mark-verified", data={"reason": "called back", "csrf": csrf}).status_code == 303
    assert client.post(f"{url}/run", data={"csrf": csrf}).status_code == 303
    page = client.get(url).text
    assert 'id="status">completed' in page and 'id="download"' in page
    download = client.get(f"{url}/export")
    assert download.headers["content-type"] == "application/zip" and download.content[:2] == b"PK"


def test_auditor_sees_no_action_buttons_and_cannot_post_them(client, world):
    created = _request(world)
    csrf = sign_in(client, world.key("auditor", "t1"))
    page = client.get(f"/dashboard/requests/{created.id}").text
    assert "Mark verified" not in page and "Run request" not in page
    response = client.post(f"/dashboard/requests/{created.id}/run", data={"csrf": csrf})
    assert response.status_code == 403


@pytest.mark.parametrize("path,marker", [("/dashboard/consent", 'id="consent"'), ("/dashboard/audit", 'id="chain"'),
                                         ("/dashboard/record", 'id="record"'), ("/dashboard/retention", 'id="plan"')])
def test_overview_pages_render(client, world, path, marker):
    sign_in(client, world.key("dpo"))
    response = client.get(path)
    assert response.status_code == 200 and marker in response.text


def test_audit_page_shows_an_intact_chain(client, world):
    sign_in(client, world.key("auditor"))
    assert "intact" in client.get("/dashboard/audit").text


def test_retention_run_needs_confirmation(client, world):
    csrf = sign_in(client, world.key("dpo"))
    response = client.post("/dashboard/retention/run", data={"csrf": csrf})
    assert response.status_code == 422
    assert not world.tutela.audit.query(action="retention.run")


def test_sign_out_ends_the_session(client, world):
    csrf = sign_in(client, world.key("dpo"))
    response = client.post("/dashboard/logout", data={"csrf": csrf})
    assert response.status_code == 303
    assert client.get("/dashboard").headers["location"] == "/dashboard/login"


def test_revoked_key_ends_its_sessions(client, world):
    from tutela.auth import revoke_key

    key = world.key("dpo")
    sign_in(client, key)
    revoke_key(world.tutela, key.split("_")[1])
    assert client.get("/dashboard").headers["location"] == "/dashboard/login"


def test_flash_messages_come_from_a_fixed_list_not_the_url(client, world):
    sign_in(client, world.key("dpo"))
    assert "Retention ran" in client.get("/dashboard/retention?done=retention").text
    assert "Send money" not in client.get("/dashboard/retention?done=Send+money+to+…").text


def test_every_dashboard_route_with_an_id_answers_404_for_another_tenants_request(client, world):
    from tutela.web.dashboard import router

    theirs = _request(world, tenant="t2")
    csrf = sign_in(client, world.key("dpo", "t1"))
    checked = 0
    for route in router.routes:
        if "{request_id}" not in route.path:
            continue
        for method in route.methods:
            path = route.path.replace("{request_id}", theirs.id).replace("{action}", "extend")
            data = {"csrf": csrf, "reason": "x"} if method == "POST" else None
            response = client.request(method, path, data=data)
            assert response.status_code == 404, f"{method} {route.path}: {response.status_code}"
            checked += 1
    assert checked >= 3
    assert RequestService(world.tutela, "t", tenant="t2").show(theirs.id).history[-1].event == "created"
