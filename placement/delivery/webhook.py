"""Signed webhooks: a JSON POST an agency's on-call or case-management system can trust.

Headers:
  SafeBed-Webhook-Id   the outbox message id; the same on every retry, so a receiver drops repeats
  SafeBed-Timestamp    Unix seconds when this attempt was signed
  SafeBed-Signature    v1=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret>

A receiver recomputes the HMAC over the raw body (`verify_signature`) and refuses
timestamps older than a few minutes, so a captured request cannot be replayed later.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from . import DeliveryError

USER_AGENT = "SafeBed-Webhook/1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, header: str, tolerance_seconds: int = 300,
                     now: float | None = None) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        fresh = abs((now or time.time()) - int(timestamp)) <= tolerance_seconds
    except ValueError:
        return False
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), header)


def post_webhook(url: str, secret: str, payload: dict, message_id: str, timeout: float) -> None:
    """POST `payload` as signed JSON; raise DeliveryError unless the receiver answers 2xx."""
    if not url.startswith(("https://", "http://")):
        raise DeliveryError("webhook URL must be http(s)", permanent=True)
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "SafeBed-Webhook-Id": message_id,
        "SafeBed-Timestamp": timestamp,
        "SafeBed-Signature": signature(secret, timestamp, body),
    })
    try:
        # The scheme is checked above: only http(s), never file: or ftp:.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310
            response.read(1024)
    except urllib.error.HTTPError as error:
        # 408 and 429 ask us to come back; any other 4xx will not change on retry.
        permanent = 400 <= error.code < 500 and error.code not in (408, 429)
        raise DeliveryError(f"webhook answered {error.code}", permanent=permanent) from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"webhook unreachable: {type(error).__name__}") from error
