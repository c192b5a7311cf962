"""Errors services raise; views turn them into messages or 4xx answers."""
from __future__ import annotations


class ServiceError(Exception):
    """A refused action with a message fit to show the user."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    """The world changed under the user (bed taken, request already answered)."""

    status = 409
    code = "conflict"
