"""Serving an intake-packet document: always as an attachment, never rendered by the browser."""
from __future__ import annotations

from flask import Response, abort

from ..services import documents
from ..services.errors import ServiceError


def document_response(session, document) -> Response:
    """The document's bytes (the download audited) as an attachment under a sandboxing CSP."""
    from flask_login import current_user

    try:
        data, content_type, name = documents.download(session, current_user, document)
    except ServiceError:
        abort(409)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    # sandbox without allow-scripts: nothing in the file can run even if a browser opened it inline.
    response.headers["Content-Security-Policy"] = ("sandbox; default-src 'none'; script-src 'self'; object-src 'none'; "
                                                   "frame-ancestors 'none'")
    return response
