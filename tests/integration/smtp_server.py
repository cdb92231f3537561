"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and the fixtures of
an application that mails through it (loaded from tests/conftest.py through `pytest_plugins`)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from app.config import Settings
from tests.loopback import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@contextmanager
def smtp_server(port: int, inbox: Inbox) -> Iterator[Inbox]:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    """What the server on `smtp_port` received, for the test's duration."""
    with smtp_server(smtp_port, Inbox()) as received:
        yield received


@pytest.fixture
def smtp_app(settings: Settings, make_app: Callable[[Settings], Flask], smtp_port: int) -> Flask:
    """The application mailing through the `inbox` server (SMTP, not the outbox folder)."""
    return make_app(replace(settings, smtp_url=f"smtp://127.0.0.1:{smtp_port}"))
