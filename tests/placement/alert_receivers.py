"""Real receivers on 127.0.0.1 for alert tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver.

Each records what it received. Either can be told to hang before answering its first
delivery (`hang_first`): the message has arrived, the sender is still waiting for the
answer, which is the moment a worker is killed in the crash tests.
"""
from __future__ import annotations

import asyncio
import email
import json
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpReceiver:
    """Accepts mail (optionally only after AUTH with `credentials`) and keeps every message."""

    credentials: tuple[str, str] | None = None
    hang_first: bool = False
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.original_content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.set()
        if self.hang_first and len(self.messages) == 1:
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and self.credentials == (
            auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=ok, handled=False)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made by the openssl command (it is also its own CA)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def start_smtp(receiver: SmtpReceiver, tls: str = "", cert: tuple[Path, Path] | None = None) -> tuple[Controller, int]:
    """Serve on a free port; `tls` is "" (plain), "starttls" (required) or "implicit"."""
    port = free_port()
    kwargs: dict = {}
    if receiver.credentials:
        kwargs = {"authenticator": receiver.authenticate, "auth_required": True,
                  # aiosmtpd only knows of TLS it started itself (STARTTLS); on implicit TLS the
                  # link is encrypted all the same. The plain server is the loopback-only exception.
                  "auth_require_tls": tls == "starttls"}
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, cert))
        kwargs.update({"tls_context": context, "require_starttls": True} if tls == "starttls" else {"ssl_context": context})
    controller = Controller(receiver, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@dataclass
class WebhookReceiver:
    """Answers each POST with the next status from `statuses` (then 200) and keeps headers and body."""

    statuses: list[int] = field(default_factory=list)
    hang_first: bool = False
    requests: list[tuple[dict, bytes]] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def start_webhook(receiver: WebhookReceiver) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            receiver.received.set()
            if receiver.hang_first and len(receiver.requests) == 1:
                receiver.release.wait(60)
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hooks/safebed"


def payloads(receiver: WebhookReceiver) -> list[dict]:
    return [json.loads(body) for _, body in receiver.requests]
