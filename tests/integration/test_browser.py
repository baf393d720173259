"""The dashboard and privacy center in a real headless Chromium (Debian `chromium` + Playwright).

(a) a DPO signs in, sees an overdue request highlighted, verifies and runs it, downloads the ZIP;
(b) a data subject files a request in the privacy center, gets the code from a real local SMTP
    server, confirms it and sees the status change;
(c) a consent form submission appears in the ledger (and on the DPO's consent page).
Skipped with the reason when Chromium is missing, except under CI=true, where that fails.
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service_app import LiveServer
from service_world import ALICE, BOB, build_world, cheap_key_hashing  # noqa: F401 - autouse fixture
from smtp_server import latest_code, smtp_server  # noqa: F401 - fixture
from tutela.requests.service import RequestService

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--headless=new"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def served(store_url, tmp_path, monkeypatch, smtp_server):  # noqa: F811
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    world = build_world(f"sqlite:///{tmp_path / 'shop.db'}", store_url, tmp_path, smtp_server.port)
    with LiveServer(world.app) as server:
        yield world, server
    world.tutela.close()


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


def test_a_dpo_sees_overdue_runs_access_and_downloads_zip(browser, served, tmp_path):
    world, server = served
    service = RequestService(world.tutela, "test", tenant="t1")
    overdue = service.create("access", [("email", ALICE)],
                             received_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=40))
    service.create("erasure", [("email", BOB)])
    page = browser.new_page(accept_downloads=True)
    errors = _console_errors(page)
    page.goto(f"{server.url}/dashboard")
    assert page.url.endswith("/dashboard/login")
    page.fill("#key", world.key("dpo", "t1"))
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard")
    row = page.locator(f'tr[data-request="{overdue.id}"]')
    assert row.get_attribute("class") == "overdue"
    assert row.locator(".badge.overdue").inner_text() == "overdue"
    assert row.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(253, 226, 225)"
    assert page.locator("#queue tbody tr").first.get_attribute("data-request") == overdue.id
    row.locator("a").click()
    page.fill("form[action$='/mark-verified'] input[name=reason]", "identity checked by phone")
    page.click("form[action$='/mark-verified'] button")
    assert page.inner_text("#status") == "verified"
    page.click("#run")
    assert page.inner_text("#status") == "completed"
    with page.expect_download() as info:
        page.click("#download")
    saved = tmp_path / "export.zip"
    info.value.save_as(saved)
    names = zipfile.ZipFile(io.BytesIO(saved.read_bytes())).namelist()
    assert any(name.endswith(".json") for name in names) and any(name.endswith(".csv") for name in names)
    assert errors == []  # no CSP violation or script error on the way


def test_b_subject_confirms_a_code_from_real_smtp_and_sees_the_status(browser, served, smtp_server):  # noqa: F811
    world, server = served
    page = browser.new_page()
    errors = _console_errors(page)
    page.goto(f"{server.url}/privacy/t1")
    page.check("input[name=right][value=access]")
    page.fill("#email", ALICE)
    page.click("button[type=submit]")
    page.wait_for_selector("#code")
    assert page.inner_text("#status") == "verifying"
    code = latest_code(smtp_server)
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.inner_text("#status") == "verified"
    request_id = page.url.split("/requests/")[1].split("?")[0]
    assert RequestService(world.tutela, "t", tenant="t1").show(request_id).status.value == "verified"
    assert page.evaluate("typeof htmx") == "object"  # the vendored htmx runs under the strict CSP
    assert page.get_attribute("#progress", "hx-trigger") == "every 15s"  # the page follows the request
    RequestService(world.tutela, "dpo", tenant="t1").run(request_id)
    page.reload()
    assert page.inner_text("#status") == "completed"
    with page.expect_download() as info:
        page.click("#download")
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"
    assert errors == []


def test_c_consent_form_submission_appears_in_the_ledger(browser, served):
    from tutela.consent import consent_history, create_notice, subject_key_for

    world, server = served
    create_notice(world.tutela, "marketing", "We send a **monthly** newsletter.", title="Newsletter",
                  actor="test")
    page = browser.new_page()
    errors = _console_errors(page)
    page.goto(f"{server.url}/privacy/t1/consent/signup?purpose=marketing")
    page.fill("input[name=email]", ALICE)
    page.check("input[name='consent.marketing']")
    page.click("form.tutela-consent button[type=submit]")
    page.wait_for_selector("#recorded")
    assert "1 purpose" in page.inner_text("#recorded")
    key = subject_key_for(world.tutela, "email", ALICE)
    assert [(e["purpose"], e["event"], e["method"]) for e in consent_history(world.tutela, key, tenant="t1")] \
        == [("marketing", "given", "web_form")]
    dpo = browser.new_page()
    dpo.goto(f"{server.url}/dashboard/login")
    dpo.fill("#key", world.key("dpo", "t1"))
    dpo.click("button[type=submit]")
    dpo.goto(f"{server.url}/dashboard/consent")
    assert dpo.inner_text('tr[data-purpose="marketing"] .given') == "1"
    assert "signup" in dpo.inner_text("#ledger") and ALICE not in dpo.content()
    assert errors == []
