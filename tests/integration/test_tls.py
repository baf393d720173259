"""`tutela serve --certfile --keyfile`: TLS 1.2+ only, security headers and HSTS, Secure cookies (R28)."""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import warnings
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tls_material import self_signed  # noqa: E402

from service_app import LiveServer, make_tutela  # noqa: E402
from tutela.api import create_app  # noqa: E402
from tutela.api.serve import tls_context  # noqa: E402
from tutela.api.settings import ServiceSettings  # noqa: E402
from tutela.errors import ConfigurationError  # noqa: E402


@pytest.fixture
def tls_server(tmp_path, store_url):
    cert, key = self_signed(tmp_path)
    tutela = make_tutela(store_url, tmp_path)
    with LiveServer(create_app(tutela, ServiceSettings()), certfile=str(cert), keyfile=str(key)) as server:
        yield server, cert
    tutela.close()


def _client_context(cert: Path, version: ssl.TLSVersion) -> ssl.SSLContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 is deprecated: that is the point
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cert)
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer old versions at all
        context.minimum_version = context.maximum_version = version
    return context


def _handshake(port: int, context: ssl.SSLContext) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            return tls.version()


def test_tls_1_1_client_is_refused_by_the_server(tls_server):
    server, cert = tls_server
    with pytest.raises(ssl.SSLError) as info:
        _handshake(server.port, _client_context(cert, ssl.TLSVersion.TLSv1_1))
    # the server answers with a protocol-version alert or hangs up (asyncio's TLS); either way it is
    # the server that refuses: the control test below shows this client can speak TLS 1.1
    message = str(info.value).upper()
    assert "PROTOCOL_VERSION" in message or "EOF" in message


def test_the_same_tls_1_1_client_works_against_a_permissive_server(tmp_path):
    """Control: the refusal above comes from our server's minimum version, not from the client."""
    cert, key = self_signed(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
        permissive.minimum_version = ssl.TLSVersion.TLSv1
    permissive.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_once():
        conn, _ = listener.accept()
        try:
            with permissive.wrap_socket(conn, server_side=True):
                pass
        except ssl.SSLError:
            pass

    thread = threading.Thread(target=accept_once, daemon=True)
    thread.start()
    assert _handshake(port, _client_context(cert, ssl.TLSVersion.TLSv1_1)) == "TLSv1.1"
    thread.join(timeout=5)
    listener.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_work_with_security_headers_and_hsts(tls_server, version):
    server, cert = tls_server
    context = ssl.create_default_context(cafile=str(cert))
    context.minimum_version = context.maximum_version = version
    with httpx.Client(verify=context, base_url=server.url) as client:
        response = client.get("/api/v1/policy")
        assert response.status_code == 401
        expected = "TLSv1.2" if version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3"
        assert response.extensions["network_stream"].get_extra_info("ssl_object").version() == expected
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        login = client.get("/dashboard/login")
        cookie = login.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_plain_http_to_the_tls_port_gets_no_answer(tls_server):
    server, _ = tls_server
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{server.port}/api/v1/policy", timeout=5)


def test_missing_or_bad_certificate_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError):
        tls_context(tmp_path / "missing.pem", tmp_path / "missing.key")
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(ConfigurationError):
        tls_context(tmp_path / "bad.pem", tmp_path / "bad.pem")


def test_context_refuses_below_tls_1_2(tmp_path):
    cert, key = self_signed(tmp_path)
    assert tls_context(cert, key).minimum_version == ssl.TLSVersion.TLSv1_2
