"""Idempotency-Key for the POSTs that take a bed (holds, placement requests).

The first request with a key claims it (a row, committed before the action, so a
concurrent retry finds the claim: the unique key makes the database pick one
winner). A successful answer is stored on the row and replayed for the same key;
the same key with a different body is refused. A refused or failed first attempt
releases the claim: it changed nothing, so a retry may run for real. Keys are
remembered for KEY_LIFETIME; an older record is dropped when its key comes again.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ..database import get_session
from ..models import IdempotencyRecord
from ..services.errors import Conflict, ServiceError
from ..timeutil import utcnow

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
KEY_LIFETIME = timedelta(hours=24)


class KeyReused(ServiceError):
    status = 422
    code = "idempotency_key_reused"


def _body_hash() -> str:
    body = request.get_json(silent=True)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")) if body is not None else request.get_data(as_text=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find(session, endpoint: str, key: str) -> IdempotencyRecord | None:
    return session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == current_user.id, IdempotencyRecord.endpoint == endpoint, IdempotencyRecord.key == key
        )
    ).first()


def _replay(record: IdempotencyRecord, body_hash: str):
    if record.request_hash != body_hash:
        raise KeyReused("This Idempotency-Key was used with a different body. Use a new key for a new request.",
                        {HEADER: "already used with a different body"})
    if record.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still being processed. Retry in a moment.",
                       {HEADER: "in progress"})
    response = jsonify(record.response)
    response.status_code = record.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Honour the Idempotency-Key header on a JSON-answering POST view."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
            raise ServiceError(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.", {HEADER: "invalid"})
        session = get_session()
        endpoint = f"{request.method} {request.path}"[:200]
        body_hash = _body_hash()
        record = _find(session, endpoint, key)
        if record is not None and record.created_at <= utcnow() - KEY_LIFETIME:
            session.delete(record)
            session.commit()
            record = None
        if record is not None:
            return _replay(record, body_hash)
        claim = IdempotencyRecord(user_id=current_user.id, endpoint=endpoint, key=key, request_hash=body_hash)
        session.add(claim)
        try:
            session.commit()
        except IntegrityError:  # a concurrent request with the same key claimed it first
            session.rollback()
            return _replay(_find(session, endpoint, key), body_hash)
        try:
            response = view(*args, **kwargs)
        except BaseException:
            _release(session, claim)
            raise
        if 200 <= response.status_code < 300:
            claim.status_code, claim.response = response.status_code, response.get_json()
            session.add(claim)
            session.commit()
        else:
            _release(session, claim)
        return response

    return wrapped


def _release(session, claim: IdempotencyRecord) -> None:
    session.rollback()
    session.delete(session.get(IdempotencyRecord, claim.id))
    session.commit()
