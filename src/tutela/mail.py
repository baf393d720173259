"""Outgoing e-mail over real SMTP (verification codes, notices).

``send_mail(settings, to, subject, body)`` connects to ``settings.host:port`` in plain, STARTTLS
or implicit-TLS mode and logs in when a username is set. ``username`` and ``password`` may be
``env:VAR`` so that secrets stay out of the policy file. Failures raise ConfigurationError with
a sentence that names the server but never the credentials or the recipient.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from tutela.errors import ConfigurationError, InvalidInput
from tutela.policy.model import SmtpSettings


def secret_value(value: str | None) -> str | None:
    """``env:VAR`` → the variable's value (ConfigurationError when unset); anything else as is."""
    if value is None or not value.startswith("env:"):
        return value
    name = value[4:]
    resolved = os.environ.get(name)
    if resolved is None:
        raise ConfigurationError(f"environment variable {name} is not set (named by the SMTP settings)")
    return resolved


def smtp_settings_from_env(base: SmtpSettings | None = None) -> SmtpSettings:
    """The policy's SMTP settings, overridden by ``TUTELA_SMTP_HOST``/``_PORT``/``_SECURITY``/
    ``_USERNAME``/``_PASSWORD``/``_SENDER`` where set (e.g. in containers)."""
    data = (base or SmtpSettings()).model_dump()
    for key in ("host", "port", "security", "username", "password", "sender"):
        value = os.environ.get(f"TUTELA_SMTP_{key.upper()}")
        if value:
            data[key] = value
    try:
        return SmtpSettings.model_validate(data)
    except ValueError as exc:
        raise ConfigurationError(f"the SMTP settings from the environment are invalid: "
                                 f"{str(exc).splitlines()[0]}") from None


def build_message(settings: SmtpSettings, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the configured sender."""
    if "\n" in to or "\r" in to or "@" not in to:
        raise InvalidInput("the recipient is not an e-mail address")
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(body)
    return message


def send_mail(settings: SmtpSettings, to: str, subject: str, body: str) -> None:
    """Deliver one plain-text message through the SMTP server in ``settings``."""
    message = build_message(settings, to, subject, body)
    username = secret_value(settings.username)
    password = secret_value(settings.password)
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if username:
                client.login(username, password or "")
            client.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise ConfigurationError(f"the SMTP server {where} refused the login (check the credentials)") from None
    except smtplib.SMTPRecipientsRefused:
        raise InvalidInput(f"the SMTP server {where} refused the recipient address") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ConfigurationError(f"cannot send mail through {where}: {type(exc).__name__}") from None
