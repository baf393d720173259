"""The public privacy center: intake with an e-mailed code (real SMTP), confirmation, status,
signed expiring export links, rate limits with 429, and consent forms recorded in the ledger."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from service_world import ALICE, hidden
from smtp_server import latest_code
from tutela.requests.service import RequestService


def _submit(client, slug="t1", email=ALICE, right="access"):
    home = client.get(f"/privacy/{slug}")
    assert home.status_code == 200
    return client.post(f"/privacy/{slug}/requests",
                       data={"right": right, "email": email, "csrf": hidden(home.text, "csrf")})


def test_subject_files_confirms_and_follows_a_request(client, world, smtp_server):
    response = _submit(client)
    assert response.status_code == 303
    status_url = response.headers["location"]
    request_id = urlparse(status_url).path.rsplit("/", 1)[1]
    page = client.get(status_url)
    assert 'id="status">verifying' in page.text and ALICE not in page.text
    code = latest_code(smtp_server)
    assert smtp_server.messages[-1]["To"] == ALICE
    confirmed = client.post(f"/privacy/t1/requests/{request_id}/confirm",
                            data={"code": code, "t": hidden(page.text, "t"), "csrf": hidden(page.text, "csrf")})
    assert confirmed.status_code == 303
    assert 'id="status">verified' in client.get(confirmed.headers["location"]).text
    stored = RequestService(world.tutela, "t", tenant="t1").show(request_id)
    assert stored.status.value == "verified" and stored.source == "privacy_center"


def test_wrong_code_is_told_and_the_request_stays_unverified(client, world, smtp_server):
    status_url = _submit(client).headers["location"]
    page = client.get(status_url)
    request_id = urlparse(status_url).path.rsplit("/", 1)[1]
    latest_code(smtp_server)
    wrong = client.post(f"/privacy/t1/requests/{request_id}/confirm",
                        data={"code": "00000000", "t": hidden(page.text, "t"), "csrf": hidden(page.text, "csrf")})
    assert wrong.status_code == 422 and "attempts left" in wrong.text
    assert RequestService(world.tutela, "t", tenant="t1").show(request_id).status.value == "verifying"


def test_status_page_needs_its_signed_token_and_the_right_tenant(client, world):
    status_url = _submit(client).headers["location"]
    path = urlparse(status_url).path
    assert client.get(path).status_code == 404
    assert client.get(path + "?t=forged.token").status_code == 404
    token = parse_qs(urlparse(status_url).query)["t"][0]
    other_tenant = path.replace("/privacy/t1/", "/privacy/t2/")
    assert client.get(f"{other_tenant}?t={token}").status_code == 404


def test_intake_without_form_token_is_refused_and_nothing_filed(client, world):
    response = client.post("/privacy/t1/requests", data={"right": "access", "email": ALICE})
    assert response.status_code == 403
    assert RequestService(world.tutela, "t", all_tenants=True).list() == []


def test_intake_is_rate_limited_per_identity(client, world, smtp_server):
    limit = world.app.state.settings.intake_per_identity.count
    for _ in range(limit):
        assert _submit(client).status_code == 303
    refused = _submit(client)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert len(RequestService(world.tutela, "t", tenant="t1").list()) == limit


def test_code_confirmation_is_rate_limited_per_request(client, world, smtp_server):
    from tutela.api.ratelimit import Limit

    world.app.state.settings.verify_per_request = Limit(2, 3600)
    status_url = _submit(client).headers["location"]
    request_id = urlparse(status_url).path.rsplit("/", 1)[1]
    page = client.get(status_url)
    form = {"code": "00000000", "t": hidden(page.text, "t"), "csrf": hidden(page.text, "csrf")}
    codes = [client.post(f"/privacy/t1/requests/{request_id}/confirm", data=form).status_code for _ in range(3)]
    assert codes == [422, 422, 429]


def test_export_link_works_once_completed_and_expires(client, world, smtp_server):
    status_url = _submit(client).headers["location"]
    request_id = urlparse(status_url).path.rsplit("/", 1)[1]
    service = RequestService(world.tutela, "dpo", tenant="t1")
    service.mark_verified(request_id, "test")
    service.run(request_id)
    page = client.get(status_url).text
    link = hidden_link(page)
    download = client.get(link)
    assert download.status_code == 200 and download.content[:2] == b"PK"
    world.app.state.settings.export_link_minutes = -1
    expired = hidden_link(client.get(status_url).text)
    assert client.get(expired).status_code == 404


def hidden_link(page: str) -> str:
    start = page.index('id="download" href="') + len('id="download" href="')
    return page[start:page.index('"', start)].replace("&amp;", "&")


@pytest.fixture
def marketing_notice(world):
    from tutela.consent import create_notice

    return create_notice(world.tutela, "marketing", "We send a monthly newsletter.", title="Newsletter",
                         actor="test")


def test_consent_form_submission_is_recorded_in_the_ledger(client, world, marketing_notice):
    from tutela.consent import consent_history, subject_key_for

    form = client.get("/privacy/t1/consent/signup?purpose=marketing")
    assert form.status_code == 200 and "monthly newsletter" in form.text
    consent_form = form.text.split('<form class="tutela-consent"', 1)[1].split("</form>")[0]
    assert '<input type="hidden" name="csrf"' in consent_form
    data = {"csrf": hidden(form.text, "csrf"), "email": ALICE, "consent.marketing": "yes",
            "notice.marketing": hidden(form.text, "notice.marketing"),
            "notice_sha256.marketing": hidden(form.text, "notice_sha256.marketing")}
    done = client.post("/privacy/t1/consent/signup", data=data)
    assert done.status_code == 200 and "1 purpose" in done.text
    history = consent_history(world.tutela, subject_key_for(world.tutela, "email", ALICE), tenant="t1")
    assert [(e["purpose"], e["event"], e["collection_point"]) for e in history] == [("marketing", "given", "signup")]


def test_consent_form_without_token_records_nothing(client, world, marketing_notice):
    from tutela.consent import consent_history, subject_key_for

    response = client.post("/privacy/t1/consent/signup", data={"email": ALICE, "consent.marketing": "yes",
                                                               "notice.marketing": "1"})
    assert response.status_code == 403
    assert consent_history(world.tutela, subject_key_for(world.tutela, "email", ALICE)) == []


def test_malformed_tenant_slug_is_an_html_404(client):
    response = client.get("/privacy/bad%20slug!")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")


def test_mail_server_down_shows_a_plain_page_without_details(client, world, monkeypatch):
    from tutela.errors import ConfigurationError

    def broken(*_args, **_kwargs):
        raise ConfigurationError("cannot reach the SMTP server at 127.0.0.1:1 (secret detail)")

    world.app.state.mailer = broken
    response = _submit(client)
    assert response.status_code == 500 and response.headers["content-type"].startswith("text/html")
    assert "try again later" in response.text and "secret detail" not in response.text
