"""Verification codes through real SMTP with STARTTLS, implicit TLS and a login whose password is
read from the environment (``env:VAR``): aiosmtpd on 127.0.0.1 with a throwaway certificate."""

from __future__ import annotations

import re
import socket
import ssl
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "requests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from requests_world import ALICE, make_tutela, seed  # noqa: E402
from tls_material import self_signed  # noqa: E402

from smtp_server import _Inbox  # noqa: E402
from tutela.errors import ConfigurationError  # noqa: E402
from tutela.mail import send_mail  # noqa: E402
from tutela.policy.model import SmtpSettings  # noqa: E402
from tutela.requests.model import Status  # noqa: E402
from tutela.requests.service import RequestService  # noqa: E402

USER, PASSWORD = "tutela", "s3cret-password"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1; its file is what clients trust."""
    return self_signed(tmp_path_factory.mktemp("tls"))


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["starttls", "tls"])
def secure_server(request, certificate, monkeypatch):
    """A server that needs TLS (STARTTLS or implicit) and a login; clients trust its certificate."""
    cert_file, key_file = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    monkeypatch.setenv("TUTELA_TEST_SMTP_PASSWORD", PASSWORD)
    inbox = _Inbox()
    common = {"hostname": "127.0.0.1", "port": _port(), "authenticator": _authenticator,
              "auth_exclude_mechanism": ["LOGIN"]}
    if request.param == "starttls":
        controller = Controller(inbox, tls_context=context, require_starttls=True, auth_require_tls=True, **common)
    else:
        # the whole connection is TLS; aiosmtpd does not count it as "TLS" for its AUTH rule
        controller = Controller(inbox, ssl_context=context, auth_require_tls=False, **common)
    controller.start()
    yield request.param, controller.port, inbox
    controller.stop()


def _settings(security: str, port: int, password: str = "env:TUTELA_TEST_SMTP_PASSWORD") -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, security=security, username=USER, password=password,
                        sender="privacy@shop.example")


def test_send_mail_over_tls_with_a_login_from_the_environment(secure_server):
    security, port, inbox = secure_server
    send_mail(_settings(security, port), ALICE, "Hello", "Body text")
    assert inbox.messages[-1]["Subject"] == "Hello" and inbox.messages[-1]["To"] == ALICE


def test_a_wrong_password_is_a_configuration_error_without_secrets(secure_server, monkeypatch):
    security, port, inbox = secure_server
    monkeypatch.setenv("TUTELA_TEST_SMTP_PASSWORD", "wrong-password")
    with pytest.raises(ConfigurationError) as caught:
        send_mail(_settings(security, port), ALICE, "Hello", "Body")
    assert "refused the login" in caught.value.message
    assert "wrong-password" not in caught.value.message and ALICE not in caught.value.message
    assert inbox.messages == []


def test_a_missing_password_variable_is_named(secure_server, monkeypatch):
    security, port, _inbox = secure_server
    monkeypatch.delenv("TUTELA_TEST_SMTP_PASSWORD")
    with pytest.raises(ConfigurationError, match="TUTELA_TEST_SMTP_PASSWORD"):
        send_mail(_settings(security, port), ALICE, "Hello", "Body")


def test_plain_connection_to_a_tls_only_server_fails_cleanly(secure_server):
    security, port, _inbox = secure_server
    with pytest.raises(ConfigurationError, match="127.0.0.1"):
        send_mail(_settings("none", port), ALICE, "Hello", "Body")


def test_a_request_is_verified_with_the_code_sent_over_tls(secure_server, tmp_path, monkeypatch):
    security, port, inbox = secure_server
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    seed(url)
    tutela = make_tutela(url, f"sqlite:///{tmp_path / 'store.db'}", tmp_path)
    tutela.policy.engine.smtp = _settings(security, port)
    try:
        service = RequestService(tutela, actor="privacy-center", tenant="t1")
        req = service.create("access", [("email", ALICE)], source="privacy_center")
        service.send_code(req.id)
        code = re.search(r"\b(\d{8})\b", inbox.messages[-1].get_content()).group(1)
        assert service.verify(req.id, code).status is Status.VERIFIED
    finally:
        tutela.close()
