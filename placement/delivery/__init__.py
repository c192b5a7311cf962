"""Transports that carry an alert out of SafeBed: e-mail over SMTP and signed webhooks.

They know nothing of the database: `services/outbox.py` claims a message, calls one of
them, and records the outcome. Each raises `DeliveryError`, saying whether a retry
could help (a refused address or a 4xx from a webhook will not).
"""
from __future__ import annotations


class DeliveryError(Exception):
    """A message was not delivered; `permanent` means retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent
