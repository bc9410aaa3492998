"""Token strings: mint, parse, checksum and hash. Pure; imports nothing of ours.

A token is ``tw`` + kind letter + ``_`` + 43 base62 characters of randomness + a 6-character
base62 CRC32 of everything before it. Secret scanners match ``\\btw[po]_[0-9A-Za-z]{49}\\b`` and
verify the checksum offline; the server rejects a bad checksum before touching the store.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import zlib
from dataclasses import dataclass

__all__ = [
    "BASE62_ALPHABET",
    "TOKEN_LENGTH",
    "MalformedToken",
    "MintedToken",
    "ParsedToken",
    "TokenKind",
    "base62_encode",
    "checksum",
    "hash_token",
    "mint",
    "parse",
]

BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 43
CHECKSUM_LENGTH = 6
PREFIX_LENGTH = 4
TOKEN_LENGTH = PREFIX_LENGTH + RANDOM_LENGTH + CHECKSUM_LENGTH
_BASE62_SET = frozenset(BASE62_ALPHABET)


class TokenKind(enum.Enum):
    PERSONAL = "twp_"
    ORGANIZATION = "two_"

    @property
    def prefix(self) -> str:
        return self.value


class MalformedToken(ValueError):
    """The string is not a well-formed Tokenward token. The message never contains the string."""


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A token whose format and checksum are valid; ``digest`` is what the store keeps."""

    kind: TokenKind
    digest: str
    last_characters: str

    def __repr__(self) -> str:
        return f"ParsedToken(kind={self.kind.name}, last_characters={self.last_characters!r})"


@dataclass(frozen=True, slots=True)
class MintedToken:
    """A freshly minted token. ``secret`` is shown once to its owner and never stored."""

    kind: TokenKind
    secret: str
    digest: str
    last_characters: str

    def __repr__(self) -> str:
        return f"MintedToken(kind={self.kind.name}, last_characters={self.last_characters!r})"

    __str__ = __repr__


def base62_encode(number: int, width: int) -> str:
    """Write ``number`` in base62, most significant digit first, left-padded with ``0``."""
    if number < 0:
        raise ValueError("base62_encode takes a non-negative number")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62_ALPHABET[remainder])
    encoded = "".join(reversed(digits)) or "0"
    if len(encoded) > width:
        raise ValueError("number does not fit in the requested width")
    return encoded.rjust(width, "0")


def checksum(body: str) -> str:
    """The 6-character checksum of everything before it, prefix included."""
    return base62_encode(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def hash_token(secret: str) -> str:
    """SHA-256 hex digest: the only form in which a token is stored."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def mint(kind: TokenKind) -> MintedToken:
    body = kind.prefix + "".join(secrets.choice(BASE62_ALPHABET) for _ in range(RANDOM_LENGTH))
    secret = body + checksum(body)
    return MintedToken(kind, secret, hash_token(secret), secret[-4:])


def parse(candidate: str) -> ParsedToken:
    """Check length, prefix, alphabet and checksum; raise ``MalformedToken`` otherwise."""
    if len(candidate) != TOKEN_LENGTH:
        raise MalformedToken("token has the wrong length")
    prefix = candidate[:PREFIX_LENGTH]
    if prefix == TokenKind.PERSONAL.prefix:
        kind = TokenKind.PERSONAL
    elif prefix == TokenKind.ORGANIZATION.prefix:
        kind = TokenKind.ORGANIZATION
    else:
        raise MalformedToken("token has an unknown prefix")
    rest = candidate[PREFIX_LENGTH:]
    if not _BASE62_SET.issuperset(rest):
        raise MalformedToken("token contains characters outside base62")
    body, given = candidate[:-CHECKSUM_LENGTH], candidate[-CHECKSUM_LENGTH:]
    if not hmac.compare_digest(checksum(body), given):
        raise MalformedToken("token checksum does not match")
    return ParsedToken(kind, hash_token(candidate), candidate[-4:])
