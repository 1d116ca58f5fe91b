"""The API key format and its hashing.

A key reads ``ahk_<key_id>_<secret>``. ``key_id`` is a public lookup handle; the
secret is never stored, only HMAC-SHA256(pepper, secret), where the pepper is derived
from SECRET_KEY, so a stolen database alone cannot be used to check guesses. Digests
are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings

KEY_PREFIX = "ahk"
_KEY_RE = re.compile(r"^ahk_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{20,128})$")


@dataclass(frozen=True)
class ParsedKey:
    key_id: str
    secret: str


@dataclass(frozen=True)
class NewKeyMaterial:
    key_id: str
    secret_hmac: str
    plaintext: str


def _pepper() -> bytes:
    return hashlib.sha256(b"agenthost-api-key:" + settings.SECRET_KEY.encode()).digest()


def secret_digest(secret: str) -> str:
    return hmac.new(_pepper(), secret.encode(), hashlib.sha256).hexdigest()


def parse_key(raw: str) -> ParsedKey | None:
    match = _KEY_RE.match(raw.strip())
    if match is None:
        return None
    return ParsedKey(key_id=match["key_id"], secret=match["secret"])


def digests_match(secret: str, stored_hmac: str) -> bool:
    return hmac.compare_digest(secret_digest(secret), stored_hmac)


def generate_key() -> NewKeyMaterial:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKeyMaterial(
        key_id=key_id,
        secret_hmac=secret_digest(secret),
        plaintext=f"{KEY_PREFIX}_{key_id}_{secret}",
    )
