"""Keys derived from a tenant's API secret, one per purpose, so that none can stand in for another.

The secret itself keys only what the protocol fixes: the SSO `verificationHash`, which sites'
backends compute with it. Everything the server signs or checks on its own uses a key made
with HMAC-SHA256(secret, label), the label naming the purpose (and the tenant, where the key
must be worthless elsewhere even if two tenants were given the same secret). A session token
therefore never matches an SSO hash or the API key, and changing the secret (`imagechat tenant
rotate-secret`) changes every derived key with it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

_TOKEN_LABEL = b"imagechat/v2/session-token\x00"
_API_KEY_LABEL = b"imagechat/v2/api-key-check\x00"
_CSRF_LABEL = b"imagechat/v2/console-csrf\x00"


def _derive(secret: str, label: bytes) -> bytes:
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


@functools.lru_cache(maxsize=4096)
def token_key(secret: str, tenant_id: str) -> bytes:
    """The key that signs and checks the session tokens of one tenant."""
    return _derive(secret, _TOKEN_LABEL + tenant_id.encode())


@functools.lru_cache(maxsize=4096)
def csrf_key(secret: str, tenant_id: str) -> bytes:
    """The key that makes the operator console's CSRF tokens."""
    return _derive(secret, _CSRF_LABEL + tenant_id.encode())


@functools.lru_cache(maxsize=4096)
def _api_key_check(secret: str) -> bytes:
    return _derive(secret, _API_KEY_LABEL)


def api_key_matches(secret: str, given: str) -> bool:
    """Whether `given` is the tenant's secret, in time that depends on neither's length.

    Both sides are MACed under a key of their own first, so the comparison always runs over
    32 bytes: compare_digest alone returns early when the lengths differ.
    """
    key = _api_key_check(secret)
    expected = hmac.new(key, secret.encode(), hashlib.sha256).digest()
    offered = hmac.new(key, given.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return hmac.compare_digest(expected, offered)
