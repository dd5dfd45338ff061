"""A real SMTP server for tests (aiosmtpd on 127.0.0.1) that keeps every message whole, and the
settings that point Django's SMTP backend at it."""

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller


class KeepAll:
    def __init__(self):
        self.messages = []  # (envelope recipients, parsed message)

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A started server; Django mails to it over SMTP."""
    handler = KeepAll()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield handler
    controller.stop()


@pytest.fixture
def smtp_down(settings):
    """Settings that point at a port where nothing listens."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5


def attachment(message):
    """(file name, bytes) of the one attachment."""
    (part,) = list(message.iter_attachments())
    return part.get_filename(), part.get_payload(decode=True)
