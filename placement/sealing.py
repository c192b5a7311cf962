"""Authenticated encryption (AES-256-GCM) of intake-packet documents at rest.

Keys come from SAFEBED_DOCUMENT_KEYS: "id:key,id:key", each key 32 bytes in URL-safe or
standard base64. The first key seals new documents; every listed key opens documents
sealed under its id, so keys rotate by putting a new key first and keeping the old one
until its documents are re-sealed (`safebed` has no re-seal command yet: documents are
short-lived) or have expired. Each sealed document stores its key id and a fresh 96-bit
nonce; the associated data binds the ciphertext to its referral and kind, so a row
copied onto another referral does not open.

Without SAFEBED_DOCUMENT_KEYS, demo and test mode use a generated key ("demo"), kept in
the instance folder (demo) or in memory (tests); production refuses to store documents.
"""
from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from .config import instance_dir

DEMO_KEY_ID = "demo"


class KeysMissing(RuntimeError):
    """No document key is configured (production without SAFEBED_DOCUMENT_KEYS)."""


class CannotOpen(RuntimeError):
    """The key id is unknown or the ciphertext was altered."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes  # with the 16-byte GCM tag at its end


def parse_keys(spec: str) -> dict[str, bytes]:
    """{key id: 32-byte key}, in the order given (the first is current). Raises ValueError on a bad spec."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        key_id, _, encoded = part.partition(":")
        if not key_id or not encoded or len(key_id) > 40:
            raise ValueError("each document key is written id:base64key")
        try:
            key = base64.urlsafe_b64decode(encoded.replace("+", "-").replace("/", "_") + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"document key {key_id!r} is not base64") from error
        if len(key) != 32:
            raise ValueError(f"document key {key_id!r} must be 32 bytes (AES-256)")
        keys[key_id] = key
    return keys


def _demo_key() -> bytes:
    config = current_app.config
    if config.get("TESTING") or config.get("SAFEBED_MODE") == "test":
        return config.setdefault("_DOCUMENT_TEST_KEY", AESGCM.generate_key(bit_length=256))
    path = instance_dir() / "document-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(AESGCM.generate_key(bit_length=256))
    return path.read_bytes()


def keys() -> dict[str, bytes]:
    configured = parse_keys(current_app.config.get("DOCUMENT_KEYS", ""))
    if configured:
        return configured
    if current_app.config.get("TESTING") or current_app.config.get("SAFEBED_MODE") in ("demo", "test"):
        return {DEMO_KEY_ID: _demo_key()}
    raise KeysMissing("Set SAFEBED_DOCUMENT_KEYS to store intake documents.")


def _aad(context: str) -> bytes:
    return context.encode("utf-8")


def seal(plaintext: bytes, context: str) -> Sealed:
    key_id, key = next(iter(keys().items()))
    nonce = os.urandom(12)
    return Sealed(key_id, nonce, AESGCM(key).encrypt(nonce, plaintext, _aad(f"{context}|{key_id}")))


def open_sealed(sealed: Sealed, context: str) -> bytes:
    key = keys().get(sealed.key_id)
    if key is None:
        raise CannotOpen(f"no key {sealed.key_id!r} is configured")
    try:
        return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, _aad(f"{context}|{sealed.key_id}"))
    except InvalidTag as error:
        raise CannotOpen("the document does not open: altered, or sealed for another record") from error
