"""The demo's web server: werkzeug's threaded WSGI server, bound before the app loads.

`flask run` and `app.run()` refuse to start from inside Flask's own CLI (Flask 3.1
ignores `app.run()` there), so `safebed demo` serves the app itself. Production runs
under gunicorn instead (README).
"""
from __future__ import annotations

import errno
import signal
import socket
import threading
from dataclasses import dataclass, field

from werkzeug.serving import BaseWSGIServer, make_server


class PortInUse(RuntimeError):
    """The address is taken by another program (or another SafeBed)."""


@dataclass
class DemoServer:
    """A listening socket that starts answering once `serve(app)` is called."""

    host: str
    port: int
    _socket: socket.socket
    _server: BaseWSGIServer | None = None
    _stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def display_host(self) -> str:
        return "127.0.0.1" if self.host in {"0.0.0.0", ""} else self.host  # nosec B104 - display only

    def serve(self, app) -> None:
        """Answer requests with `app` from a background thread."""
        self._server = make_server(self.host, self.port, app, threaded=True, fd=self._socket.fileno())
        threading.Thread(target=self._server.serve_forever, name="safebed-http", daemon=True).start()

    def wait(self) -> None:
        """Block until Ctrl+C (SIGINT) or SIGTERM, then stop serving cleanly.

        Both signals get explicit handlers: a shell starts background jobs with SIGINT
        ignored, and Python then never raises KeyboardInterrupt.
        """
        stop_signals = (signal.SIGINT, signal.SIGTERM)
        previous = {number: signal.signal(number, lambda *_: self._stopped.set()) for number in stop_signals}
        try:
            while not self._stopped.wait(0.5):
                pass
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
            self._socket.close()


def bind_server(host: str, port: int) -> DemoServer:
    """Bind and listen on host:port now, so a taken port is reported before any work."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(f"Port {port} on {host} is already in use. Stop the other program, "
                            f"or pick another port: safebed demo --port {port + 1}") from error
        raise PortInUse(f"Cannot listen on {host}:{port}: {error.strerror}") from error
    sock.listen(128)
    return DemoServer(host=host, port=sock.getsockname()[1], _socket=sock)
