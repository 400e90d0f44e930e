"""API keys: stored as SHA-256 digests, presented in ``X-API-Key``, compared in constant time.

A key is a long random secret (``bqingest api hash-key --generate`` makes one), so a plain
SHA-256 digest is enough to keep the stored form useless to a reader of the configuration; a
password hash (slow by design) would only slow every request. Keys travel in ``X-API-Key``
because on Cloud Run ``Authorization`` carries the Google identity token of the IAM invoker check.

Each key has a name, scopes (``read``, ``write``) and the sources it may publish as
(:class:`~bqingest.config.ApiKeySpec`); :meth:`ApiKeys.check` returns the key that matched, and
the routes and the publish controller check what it may do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Final, Literal

from bqingest.api.errors import InvalidApiKey, KeyNotAllowed, MissingApiKey
from bqingest.config import ApiKeySpec

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

    def __init__(self, keys: Sequence[ApiKeySpec | str]) -> None:
        specs = [ApiKeySpec.from_bare_digest(k) if isinstance(k, str) else k for k in keys]
        self._keys = [(bytes.fromhex(k.digest.removeprefix(DIGEST_PREFIX)), k) for k in specs]

    def __bool__(self) -> bool:
        return bool(self._keys)

    def check(
        self, presented: str | None, scope: Literal["read", "write"] | None = None
    ) -> ApiKeySpec:
        """The configured key ``presented`` is; raise 401 if absent, 403 if wrong or if it
        lacks ``scope``."""
        if not presented:
            raise MissingApiKey(f"this request needs an API key in the {API_KEY_HEADER} header")
        digest = hashlib.sha256(presented.encode()).digest()
        matched: ApiKeySpec | None = None
        for candidate, key in self._keys:  # every candidate, no early exit
            if hmac.compare_digest(digest, candidate):
                matched = key
        if matched is None:
            raise InvalidApiKey("the API key is not valid")
        if scope is not None and scope not in matched.scopes:
            raise KeyNotAllowed(f"the API key {matched.name!r} has no {scope} scope")
        return matched
