"""At-rest and on-the-wire encryption of encoded values: AES-256-GCM with key rotation."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from hazelkit._codec._format import FLAG_BOUND, HEADER_SIZE, HEADERS
from hazelkit._core._exceptions import ConfigurationError, CorruptDataError, DecryptionError

__all__ = ["Encryption"]

KEY_SIZE = 32
_KEY_ID_SIZE = 4
_NONCE_SIZE = 12
_TAG_SIZE = 16
_KEY_ID_LABEL = b"hazelkit key id"
# Scrypt cost: about 0.1 s and 32 MiB of memory, paid once per process.
_SCRYPT_N = 2**15
_SCRYPT_R = 8
_SCRYPT_P = 1

OVERHEAD = _KEY_ID_SIZE + _NONCE_SIZE + _TAG_SIZE


def key_id(key: bytes) -> bytes:
    """The 4-byte id stored with each value: HMAC-SHA256(key, "hazelkit key id")[:4].

    It tells which key to decrypt with and reveals nothing useful about the key.
    """
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).digest()[:_KEY_ID_SIZE]


class Encryption:
    """AES-256-GCM encryption of encoded values, with key rotation.

    The first key encrypts; every key decrypts, chosen by the key id stored in the
    value, so a new key can be put first while values written with older keys stay
    readable. Each value gets a fresh random 96-bit nonce; rotate keys well before
    a key has encrypted 2**32 values.

    Instances are immutable and thread-safe. Key material never appears in ``repr``.

    Raises ConfigurationError for no keys, a key that is not 32 bytes, or two keys
    with the same key id.
    """

    __slots__ = ("_aeads", "_primary", "_primary_id")

    def __init__(self, *, keys: Iterable[bytes | bytearray]) -> None:
        aeads: dict[bytes, AESGCM] = {}
        for key in keys:
            raw = bytes(key)
            if len(raw) != KEY_SIZE:
                raise ConfigurationError(
                    f"an encryption key must be {KEY_SIZE} bytes, got {len(raw)}; "
                    "use Encryption.derive_key() or os.urandom(32)"
                )
            kid = key_id(raw)
            if kid in aeads:
                raise ConfigurationError(f"two encryption keys share the key id {kid.hex()}")
            aeads[kid] = AESGCM(raw)
        if not aeads:
            raise ConfigurationError("Encryption needs at least one key")
        self._aeads = aeads
        self._primary_id = next(iter(aeads))
        self._primary = aeads[self._primary_id]

    @classmethod
    def from_password(cls, password: str, *, salt: str | bytes) -> Encryption:
        """An Encryption with one key derived from ``password`` by :meth:`derive_key`.

        Derivation is deliberately slow (about 0.1 s): do it once per process.
        """
        return cls(keys=[cls.derive_key(password, salt=salt)])

    @staticmethod
    def derive_key(password: str, *, salt: str | bytes) -> bytes:
        """A 256-bit key from ``password`` with Scrypt (n=2**15, r=8, p=1).

        ``salt`` is required and must not be empty: use one value per deployment
        (for example the application name and environment), the same on every node,
        so that all nodes derive the same key. Different salts give different keys.
        Use it to build a rotation list:
        ``Encryption(keys=[derive_key(new, salt=s), derive_key(old, salt=s)])``.

        Raises ConfigurationError for an empty password or salt.
        """
        if not isinstance(password, str) or not password:
            raise ConfigurationError("an encryption password must be a non-empty str")
        salt_bytes = salt.encode() if isinstance(salt, str) else bytes(salt)
        if not salt_bytes:
            raise ConfigurationError(
                "an encryption salt is required: use one non-empty value per deployment"
            )
        kdf = Scrypt(salt=salt_bytes, length=KEY_SIZE, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
        return kdf.derive(password.encode())

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The hex key ids this Encryption reads, the encrypting one first."""
        return tuple(kid.hex() for kid in self._aeads)

    def __repr__(self) -> str:
        return f"Encryption(key_ids={list(self.key_ids)!r})"

    def _seal(self, flags: int, body: bytes, place: bytes = b"") -> bytes:
        """Header, key id, nonce and ciphertext for ``body``; ``flags`` includes encrypted
        (and bound, with ``place``, which is authenticated but not stored)."""
        nonce = os.urandom(_NONCE_SIZE)
        stored = HEADERS[flags] + self._primary_id
        associated = stored + _bound(place) if place else stored
        return b"".join((stored, nonce, self._primary.encrypt(nonce, body, associated)))

    def _open(self, data: bytes | bytearray | memoryview, place: bytes = b"") -> bytes:
        """The plaintext body of a whole encrypted value (header included in ``data``);
        a bound value opens only with the ``place`` it was sealed for."""
        view = memoryview(data)
        start = HEADER_SIZE + _KEY_ID_SIZE
        if len(view) < start + _NONCE_SIZE + _TAG_SIZE:
            raise CorruptDataError(
                f"truncated encrypted value: {len(view)} bytes, an encrypted value has at "
                f"least {start + _NONCE_SIZE + _TAG_SIZE}"
            )
        kid = bytes(view[HEADER_SIZE:start])
        aead = self._aeads.get(kid)
        if aead is None:
            raise DecryptionError(
                f"the value was encrypted with a different key (key id {kid.hex()}); "
                f"this codec has key ids {', '.join(self.key_ids)}: add the old key to "
                "Encryption(keys=[...]) to read it"
            )
        nonce = view[start : start + _NONCE_SIZE]
        associated = bytes(view[:start])
        bound = view[1] & FLAG_BOUND
        if bound:
            associated += _bound(place)
        try:
            return aead.decrypt(nonce, view[start + _NONCE_SIZE :], associated)
        except InvalidTag:
            where = (
                " or it was moved here from another key or structure (it is bound to where"
                " it was written)"
                if bound
                else ""
            )
            raise DecryptionError(
                f"the encrypted value was tampered with or corrupt{where}: authentication failed"
            ) from None


def _bound(place: bytes) -> bytes:
    """The authenticated form of a place: its length, then its bytes."""
    return len(place).to_bytes(4, "big") + place
