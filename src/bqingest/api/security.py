"""API keys: stored as SHA-256 digests, presented in ``X-API-Key``, compared in constant time.

A key is a long random secret (``bqingest api hash-key --generate`` makes one), so a plain
SHA-256 digest is enough to keep the stored form useless to a reader of the configuration; a
password hash (slow by design) would only slow every request. Keys travel in ``X-API-Key``
because on Cloud Run ``Authorization`` carries the Google identity token of the IAM invoker check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Final

from bqingest.api.errors import InvalidApiKey, MissingApiKey

API_KEY_HEADER: Final = "X-API-Key"
DIGEST_PREFIX: Final = "sha256:"
MIN_KEY_LENGTH: Final = 20


def hash_api_key(key: str) -> str:
    """The stored form of ``key``: ``sha256:<64 hex>`` (what BQINGEST_API_KEYS holds)."""
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(
            f"an API key must be at least {MIN_KEY_LENGTH} characters of random text "
            "(bqingest api hash-key --generate makes one)"
        )
    return DIGEST_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> str:
    """A new random key (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class ApiKeys:
    """The configured keys, checked without revealing by timing which (if any) matched."""

    def __init__(self, digests: Sequence[str]) -> None:
        self._digests = [bytes.fromhex(d.removeprefix(DIGEST_PREFIX)) for d in digests]

    def __bool__(self) -> bool:
        return bool(self._digests)

    def check(self, presented: str | None) -> None:
        """Return if ``presented`` is a configured key; raise 401 if absent, 403 if wrong."""
        if not presented:
            raise MissingApiKey(f"this request needs an API key in the {API_KEY_HEADER} header")
        digest = hashlib.sha256(presented.encode()).digest()
        matched = False
        for candidate in self._digests:  # every candidate, no early exit
            matched |= hmac.compare_digest(digest, candidate)
        if not matched:
            raise InvalidApiKey("the API key is not valid")
