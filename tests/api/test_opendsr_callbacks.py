"""OpenDSR status callbacks: registered with the request, sent signed on each status change,
retried after a failure; bad URLs are refused before anything is filed."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from service_world import ALICE, build_world
from smtp_server import smtp_server  # noqa: F401 - fixture
from tutela.api.settings import ServiceSettings
from tutela.crypto.signing import verify_document
from tutela.opendsr import deliver_due
from tutela.opendsr.callbacks import SIGNATURE_HEADER


class Receiver:
    """A loopback HTTP server recording the callbacks it receives; ``status`` is what it answers."""

    def __init__(self):
        self.received: list[tuple[dict, dict]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((json.loads(body), dict(self.headers)))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dsr-status"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def world(store_url, tmp_path, monkeypatch, smtp_server):  # noqa: F811
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    built = build_world(f"sqlite:///{tmp_path / 'shop.db'}", store_url, tmp_path, smtp_server.port,
                        settings=ServiceSettings(session_secret="s", callback_allow_http=True))
    yield built
    built.tutela.close()


def _body(url):
    return {"subject_request_type": "access", "status_callback_urls": [url],
            "subject_identities": [{"identity_type": "email", "identity_value": ALICE}]}


def test_each_status_change_is_delivered_once_and_signed(world, receiver):
    with TestClient(world.app) as client:
        created = client.post("/opendsr/requests", headers=world.auth("operator", "t1"), json=_body(receiver.url))
        request_id = created.json()["subject_request_id"]
        assert deliver_due(world.tutela) == 1
        assert deliver_due(world.tutela) == 0  # nothing changed since
        auth = world.auth("dpo", "t1")
        client.post(f"/api/v1/requests/{request_id}/mark-verified", headers=auth, json={"reason": "known"})
        client.post(f"/api/v1/requests/{request_id}/run", headers=auth)
        assert deliver_due(world.tutela) == 1
    statuses = [doc["request_status"] for doc, _ in receiver.received]
    assert statuses == ["pending", "completed"]
    for doc, headers in receiver.received:
        assert doc["subject_request_id"] == request_id and ALICE not in json.dumps(doc)
        assert verify_document(doc, world.tutela.keyring)
        assert headers[SIGNATURE_HEADER] == doc["signature"]["value"]


def test_a_failed_delivery_is_retried_on_the_next_sweep(world, receiver):
    receiver.status = 500
    with TestClient(world.app) as client:
        client.post("/opendsr/requests", headers=world.auth("operator", "t1"), json=_body(receiver.url))
    assert deliver_due(world.tutela) == 0
    receiver.status = 204
    assert deliver_due(world.tutela) == 1
    assert len(receiver.received) == 2


@pytest.mark.parametrize("url", ["ftp://example.org/x", "https://user:pw@example.org/x", "not a url"])
def test_bad_callback_url_is_refused_and_nothing_filed(world, url):
    with TestClient(world.app) as client:
        response = client.post("/opendsr/requests", headers=world.auth("operator", "t1"), json=_body(url))
        assert response.status_code == 422
        assert client.get("/api/v1/requests", headers=world.auth("dpo")).json() == []


def test_http_callbacks_need_the_setting(store_url, tmp_path, smtp_server, receiver):  # noqa: F811
    world = build_world(f"sqlite:///{tmp_path / 'shop.db'}", store_url, tmp_path, smtp_server.port)
    try:
        with TestClient(world.app) as client:
            response = client.post("/opendsr/requests", headers=world.auth("operator", "t1"),
                                   json=_body(receiver.url))
            assert response.status_code == 422 and "https" in response.json()["detail"]
    finally:
        world.tutela.close()
