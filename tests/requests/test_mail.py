"""send_mail's input checks and env: secrets (delivery itself is tested through real SMTP)."""

import pytest

from tutela.errors import ConfigurationError, InvalidInput
from tutela.mail import build_message, secret_value, smtp_settings_from_env
from tutela.policy.model import SmtpSettings


@pytest.mark.parametrize("to", ["no-at-sign", "a@b.example\nBcc: evil@x.example", "a@b.example\r\n"])
def test_recipients_that_could_inject_headers_are_refused(to):
    with pytest.raises(InvalidInput):
        build_message(SmtpSettings(), to, "subject", "body")


def test_secret_values_read_the_environment(monkeypatch):
    monkeypatch.setenv("MY_SMTP_PASSWORD", "pw")
    assert secret_value("env:MY_SMTP_PASSWORD") == "pw"
    assert secret_value("literal") == "literal" and secret_value(None) is None
    monkeypatch.delenv("MY_SMTP_PASSWORD")
    with pytest.raises(ConfigurationError, match="MY_SMTP_PASSWORD"):
        secret_value("env:MY_SMTP_PASSWORD")


def test_environment_overrides_policy_settings(monkeypatch):
    monkeypatch.setenv("TUTELA_SMTP_HOST", "mail.example")
    monkeypatch.setenv("TUTELA_SMTP_PORT", "2525")
    settings = smtp_settings_from_env(SmtpSettings(host="127.0.0.1", sender="privacy@a.example"))
    assert (settings.host, settings.port, settings.sender) == ("mail.example", 2525, "privacy@a.example")
    monkeypatch.setenv("TUTELA_SMTP_SECURITY", "ssl3")
    with pytest.raises(ConfigurationError):
        smtp_settings_from_env(None)
