"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), and helpers to read what it received.

Use it from any test package::

    from smtp_server import smtp_server, latest_code  # noqa: F401  (the fixture)

    def test_mail(smtp_server):
        ... SmtpSettings(host=smtp_server.host, port=smtp_server.port) ...
        assert smtp_server.messages[-1]["To"] == "alice@example.org"
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller


@dataclass
class _Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content,
                                                policy=default_policy))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A running local server: ``host``, ``port`` and the ``messages`` it has received."""

    host: str
    port: int
    inbox: _Inbox

    @property
    def messages(self) -> list[Message]:
        return self.inbox.messages

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Message]:
        """Wait until at least ``count`` messages arrived (delivery is asynchronous on the server side)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.messages) >= count, f"expected {count} message(s), got {len(self.messages)}"
        return self.messages

    def body(self, index: int = -1) -> str:
        message = self.messages[index]
        part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
        return part.get_content()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def latest_code(server: SmtpServer, count: int | None = None, digits: int = 8) -> str:
    """The verification code in the newest message (waits for ``count`` messages when given)."""
    server.wait_for(count or 1)
    match = re.search(rf"\b(\d{{{digits}}})\b", server.body())
    assert match, "the message carries no code"
    return match.group(1)


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 and a free port, stopped after the test."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, inbox)
    finally:
        controller.stop()
