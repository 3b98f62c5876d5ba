"""The session cookie: a signed session id, read from ``Cookie`` and written as ``Set-Cookie``.

The cookie carries nothing but the id and its HMAC-SHA256 signature (itsdangerous), so a
forged or tampered cookie is rejected by arithmetic alone, before any lookup in the
cluster, and no session data ever travels to the browser.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable

from itsdangerous import BadSignature, Signer

from hazelkit.web._config import SessionConfig

__all__ = ["CookieSigner", "cookie_values", "deletion_cookie", "new_session_id", "session_cookie"]

#: Bytes of randomness in a session id (256 bits; at least 128 are required).
ID_BYTES = 32
_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32): 43 base64url characters
_SALT = b"hazelkit.web.session"
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def new_session_id() -> str:
    """A fresh session id: 256 random bits from :mod:`secrets`, base64url-encoded."""
    return secrets.token_urlsafe(ID_BYTES)


class CookieSigner:
    """Signs session ids and verifies signed ones, with key rotation.

    ``keys`` are given current key first; the first signs, all verify. Thread-safe.
    """

    def __init__(self, keys: Iterable[bytes]) -> None:
        # itsdangerous signs with the *last* key of its list.
        self._signer = Signer(
            list(reversed(list(keys))),
            salt=_SALT,
            key_derivation="hmac",
            digest_method=hashlib.sha256,
        )

    def sign(self, session_id: str) -> str:
        """The cookie value for ``session_id``: ``ID.SIGNATURE``."""
        return self._signer.sign(session_id).decode("ascii")

    def unsign(self, value: str) -> str | None:
        """The session id in a cookie value, or None if the value is forged, tampered
        with, signed with an unknown key, or malformed. Constant-time comparison."""
        try:
            session_id = self._signer.unsign(value.encode("ascii")).decode("ascii")
        except (BadSignature, UnicodeError):
            return None
        return session_id if _ID.fullmatch(session_id) else None


def cookie_values(header: str, name: str) -> list[str]:
    """The values of every cookie called ``name`` in a ``Cookie`` header, in order.

    Browsers send the most specific path first; a name may repeat when several paths or
    domains set it, so callers try each value in turn.
    """
    values = []
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == name:
            values.append(value.strip().strip('"'))
    return values


def _attributes(config: SessionConfig, *, secure: bool) -> list[str]:
    attributes = [f"Path={config.path}"]
    if config.domain is not None:
        attributes.append(f"Domain={config.domain}")
    if config.http_only:
        attributes.append("HttpOnly")
    if _secure(config, request_is_https=secure):
        attributes.append("Secure")
    attributes.append(f"SameSite={config.same_site.capitalize()}")
    return attributes


def _secure(config: SessionConfig, *, request_is_https: bool) -> bool:
    if config.secure is not None:
        return config.secure
    prefixed = config.cookie_name.startswith(("__Secure-", "__Host-"))
    return request_is_https or prefixed or config.same_site == "none"


def session_cookie(
    config: SessionConfig,
    value: str,
    *,
    max_age: float | None,
    https: bool,
    persistent: bool | None = None,
) -> str:
    """A ``Set-Cookie`` header value giving the browser the signed id ``value``.

    ``max_age`` (seconds, rounded down, at least 1) is written when the cookie is
    persistent: ``persistent``, or the config's when None. ``https`` tells whether the
    request came over https, which decides the Secure attribute when the config leaves
    it to the request.
    """
    parts = [f"{config.cookie_name}={value}"]
    if persistent is None:
        persistent = config.persistent
    if persistent and max_age is not None:
        parts.append(f"Max-Age={max(1, int(max_age))}")
    return "; ".join(parts + _attributes(config, secure=https))


def deletion_cookie(config: SessionConfig, *, https: bool) -> str:
    """A ``Set-Cookie`` header value that makes the browser drop the session cookie."""
    parts = [f"{config.cookie_name}=", "Max-Age=0", f"Expires={_EPOCH}"]
    return "; ".join(parts + _attributes(config, secure=https))
