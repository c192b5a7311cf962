"""E-mail through the SMTP server named by `SMTP_URL`.

  smtp://[user:password@]host[:25]            plain SMTP (a local relay)
  smtp+starttls://user:password@host[:587]    STARTTLS, required: no fallback to plain text
  smtps://user:password@host[:465]            TLS from the first byte

User and password are URL-encoded (`%40` for `@`). `?ca=/path/ca.pem` trusts a private
certificate authority in addition to the system's. Each message carries the outbox
message's own Message-ID, so a copy sent twice (at-least-once delivery) is recognisably
the same message.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from . import DeliveryError

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    username: str
    password: str
    ca_file: str | None

    @property
    def label(self) -> str:
        """Where mail goes, without the password (for logs and pages)."""
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    """Read `SMTP_URL`; a ValueError names what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError("SMTP_URL must start with smtp://, smtp+starttls:// or smtps://")
    if not parts.hostname:
        raise ValueError("SMTP_URL has no host")
    ca = parse_qs(parts.query).get("ca", [None])[0]
    return SmtpServer(parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme],
                      unquote(parts.username or ""), unquote(parts.password or ""), ca)


def build_message(sender: str, to: str, subject: str, body: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{message_id}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to alerts
    message.set_content(body)
    return message


def send_email(smtp_url: str, sender: str, to: str, subject: str, body: str, message_id: str, timeout: float) -> None:
    """Hand one message to the SMTP server; raise DeliveryError if it was not accepted."""
    server = parse_smtp_url(smtp_url)
    message = build_message(sender, to, subject, body, message_id)
    context = ssl.create_default_context(cafile=server.ca_file)
    try:
        if server.scheme == "smtps":
            connection = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with connection:
            if server.scheme == "smtp+starttls":
                connection.starttls(context=context)  # raises if the server does not offer it
            if server.username:
                connection.login(server.username, server.password)
            connection.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError(f"recipient refused by {server.label}", permanent=True) from error
    except smtplib.SMTPResponseException as error:
        # 5xx is a final "no" (bad address, auth refused); 4xx asks us to try later.
        raise DeliveryError(f"{server.label} answered {error.smtp_code}", permanent=error.smtp_code >= 500) from error
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"{server.label}: {type(error).__name__}") from error
