"""Nothing personal or secret reaches the logs: no e-mail, API key, verification code or query string."""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from service_world import ALICE, hidden, sign_in
from smtp_server import latest_code


def test_requests_sign_in_and_intake_log_no_secrets(client, world, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    key = world.key("operator", "t1")
    client.post("/api/v1/requests", headers={"Authorization": f"Bearer {key}"},
                json={"type": "access", "identities": [{"kind": "email", "value": ALICE}]})
    client.get("/api/v1/requests?subject=t1:abc", headers={"Authorization": "Bearer tk_000000000000_" + "B" * 43})
    sign_in(client, world.key("dpo", "t1"))
    home = client.get("/privacy/t1")
    status_url = client.post("/privacy/t1/requests", data={"right": "access", "email": ALICE,
                                                           "csrf": hidden(home.text, "csrf")}).headers["location"]
    page = client.get(status_url)
    code = latest_code(smtp_server)
    request_id = urlparse(status_url).path.rsplit("/", 1)[1]
    client.post(f"/privacy/t1/requests/{request_id}/confirm",
                data={"code": code, "t": hidden(page.text, "t"), "csrf": hidden(page.text, "csrf")})
    # the service's own loggers (the test client's and the test SMTP server's are not the service)
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("tutela", "uvicorn", "fastapi", "starlette")]
    logged = "\n".join(record.getMessage() for record in ours)
    assert any(r.name == "tutela.access" for r in ours)  # requests were logged …
    for secret in (ALICE, key, world.key("dpo", "t1"), code, "B" * 43, "?t=", "subject="):
        assert secret not in logged  # … without any of these
