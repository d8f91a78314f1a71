"""Webhook calls: a JSON POST per notification event to a unit's own URL, signed with HMAC-SHA256.

The receiver checks ``X-Alur-Signature: sha256=<hex>``, the HMAC-SHA256 of the
exact request body under the unit's shared secret (RFC 2104), and may use
``X-Alur-Event-Id`` to drop a repeated delivery (retries are at least once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any

from storage.errors import DeliveryError

__all__ = ["TIMEOUT_SECONDS", "post", "sign"]

TIMEOUT_SECONDS = 10


def sign(secret: str, body: bytes) -> str:
    """The ``X-Alur-Signature`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(url: str, secret: str | None, event_id: str, payload: dict[str, Any]) -> int:
    """POST ``payload`` as JSON to ``url``; return the HTTP status (2xx).

    Only ``http``/``https`` URLs. Raises ``DeliveryError`` for another scheme, a
    non-2xx answer or a network error; ``ambiguous`` for a timeout (the receiver
    may have acted on it).
    """
    if not url.lower().startswith(("http://", "https://")):
        raise DeliveryError(f"URL webhook harus http(s): {url!r}")
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Alur-webhook/1",
               "X-Alur-Event-Id": event_id}
    if secret:
        headers["X-Alur-Signature"] = sign(secret, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"Webhook dijawab HTTP {exc.code}") from exc
    except TimeoutError as exc:
        raise DeliveryError(f"Webhook tidak menjawab: {exc}", ambiguous=True) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"Webhook tidak dapat dihubungi: {exc}") from exc
