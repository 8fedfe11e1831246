"""Messages to patients by email or SMS, through pluggable backends.

Email uses Django's mailers (settings.MAILERS). SMS uses the class named by
settings.SMS_BACKEND: the console backend in development, the in-memory one
in tests (`outbox`), a provider's adapter in production. Messages to patients
carry a link and the clinic's name, never clinical content.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class SmsBackend(Protocol):
    def send(self, message: SmsMessage) -> None: ...


class ConsoleSmsBackend:
    """Writes the message to standard output (development)."""

    def send(self, message: SmsMessage) -> None:
        print(f"[SMS to {message.to}] {message.body}")  # noqa: T201 - the console backend's job


outbox: list[SmsMessage] = []


class LocmemSmsBackend:
    """Keeps messages in `outbox` (tests)."""

    def send(self, message: SmsMessage) -> None:
        outbox.append(message)


def send_sms(to: str, body: str) -> None:
    backend_class = import_string(
        getattr(settings, "SMS_BACKEND", "neuroclinic.lib.messaging.ConsoleSmsBackend")
    )
    backend: SmsBackend = backend_class()
    backend.send(SmsMessage(to=to, body=body))


def send_email(to: str, subject: str, body: str) -> None:
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])
