"""The token format of docs/api.md: prefix, 43 base62 characters, 6-character base62 CRC32."""

from __future__ import annotations

import hashlib
import re
import string
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenward import credentials
from tokenward.credentials import MalformedToken, TokenKind

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
SCANNER = re.compile(r"\btw[po]_[0-9A-Za-z]{49}\b")


def crc32_base62(body: str) -> str:
    """The checksum as docs/api.md words it, written here without the module's help."""
    number = zlib.crc32(body.encode("ascii"))
    digits = ""
    while number:
        number, remainder = divmod(number, 62)
        digits = ALPHABET[remainder] + digits
    return digits.rjust(6, "0")


def with_checksum(body: str) -> str:
    return body + crc32_base62(body)


def valid_token(kind: str = "p", fill: str = "a") -> str:
    return with_checksum(f"tw{kind}_" + fill * 43)


def test_alphabet_is_digits_then_upper_then_lower() -> None:
    assert credentials.BASE62_ALPHABET == ALPHABET


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("twp_" + "0" * 43, "39WO8x"),
        ("two_" + "0" * 43, "1YdtR6"),
        ("twp_" + (ALPHABET * 2)[:43], "2KAr7o"),
        ("two_" + "z" * 43, "0zlLvR"),  # left-padded with 0
    ],
)
def test_checksum_known_answers(body: str, expected: str) -> None:
    assert crc32_base62(body) == expected
    assert credentials.checksum(body) == expected
    parsed = credentials.parse(body + expected)
    assert parsed.last_characters == expected[-4:]


@pytest.mark.parametrize(
    ("number", "encoded"),
    [(0, "000000"), (61, "00000z"), (62, "000010"), (62**6 - 1, "zzzzzz")],
)
def test_base62_encode_pads_and_orders_most_significant_first(number: int, encoded: str) -> None:
    assert credentials.base62_encode(number, 6) == encoded


def test_base62_encode_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="width"):
        credentials.base62_encode(62**6, 6)
    with pytest.raises(ValueError, match="non-negative"):
        credentials.base62_encode(-1, 6)


@pytest.mark.parametrize(
    ("kind", "prefix"), [(TokenKind.PERSONAL, "twp_"), (TokenKind.ORGANIZATION, "two_")]
)
def test_minted_token_has_the_documented_shape(kind: TokenKind, prefix: str) -> None:
    minted = credentials.mint(kind)
    secret = minted.secret
    assert len(secret) == 53 == credentials.TOKEN_LENGTH
    assert secret.startswith(prefix)
    assert set(secret[4:]) <= set(ALPHABET)
    assert secret[-6:] == crc32_base62(secret[:-6])
    assert SCANNER.fullmatch(secret)
    assert SCANNER.findall(f"export TOKEN={secret} # ci") == [secret]
    assert minted.last_characters == secret[-4:]
    assert minted.digest == credentials.hash_token(secret)
    assert re.fullmatch(r"[0-9a-f]{64}", minted.digest)
    # SHA-256 of the whole token text, pinned independently of the code under test.
    assert minted.digest == hashlib.sha256(secret.encode("ascii")).hexdigest()


def test_parse_gives_kind_digest_and_last_characters() -> None:
    minted = credentials.mint(TokenKind.ORGANIZATION)
    parsed = credentials.parse(minted.secret)
    assert parsed.kind is TokenKind.ORGANIZATION
    assert parsed.digest == minted.digest
    assert parsed.last_characters == minted.secret[-4:]


def test_minted_tokens_differ() -> None:
    secrets = {credentials.mint(TokenKind.PERSONAL).secret for _ in range(200)}
    assert len(secrets) == 200


def _replace(text: str, index: int, character: str) -> str:
    return text[:index] + character + text[index + 1 :]


def _other(character: str) -> str:
    return ALPHABET[(ALPHABET.index(character) + 1) % 62]


@pytest.mark.parametrize("index", [4, 20, 46, 47, 52])
def test_a_tampered_character_is_caught_by_the_checksum(index: int) -> None:
    token = valid_token()
    tampered = _replace(token, index, _other(token[index]))
    with pytest.raises(MalformedToken, match="checksum"):
        credentials.parse(tampered)


def test_swapping_the_prefix_kind_breaks_the_checksum() -> None:
    token = valid_token("p")
    with pytest.raises(MalformedToken, match="checksum"):
        credentials.parse("two_" + token[4:])


@pytest.mark.parametrize(
    "candidate",
    [
        "",
        valid_token()[:-1],  # truncated
        valid_token()[:40],
        valid_token() + "0",  # too long
        " " + valid_token(),
        valid_token() + "\n",
    ],
    # Fixed ids: random ones would differ between pytest-xdist's workers and fail collection.
    ids=["empty", "truncated", "forty", "too-long", "leading-space", "trailing-newline"],
)
def test_wrong_length_is_refused(candidate: str) -> None:
    with pytest.raises(MalformedToken, match="length"):
        credentials.parse(candidate)


@pytest.mark.parametrize("prefix", ["twx_", "TWP_", "twp-", "ghp_", "tw_p"])
def test_wrong_prefix_is_refused(prefix: str) -> None:
    body = prefix + "a" * 43
    with pytest.raises(MalformedToken, match="prefix"):
        credentials.parse(with_checksum(body))


@pytest.mark.parametrize("bad", ["-", "_", "+", "/", "=", " ", "é", "٣", "\x00"])
def test_characters_outside_base62_are_refused(bad: str) -> None:
    token = _replace(valid_token(), 10, bad)
    with pytest.raises(MalformedToken, match="base62"):
        credentials.parse(token)


def test_unicode_digits_and_letters_are_not_base62() -> None:
    # str.isalnum() would accept these; base62 must not.
    sneaky = "twp_" + "\uff41" * 42 + "\u0663" + "000000"  # fullwidth a, Arabic-Indic 3
    assert len(sneaky) == 53
    with pytest.raises(MalformedToken):
        credentials.parse(sneaky)


def test_malformed_token_messages_never_echo_the_candidate() -> None:
    token = valid_token()
    for candidate in (token[:-1], _replace(token, 30, _other(token[30])), "twx_" + token[4:]):
        with pytest.raises(MalformedToken) as caught:
            credentials.parse(candidate)
        assert candidate[4:20] not in str(caught.value)


def test_repr_and_str_never_show_the_secret() -> None:
    minted = credentials.mint(TokenKind.PERSONAL)
    parsed = credentials.parse(minted.secret)
    for text in (repr(minted), str(minted), repr(parsed), str(parsed), f"{minted!r}"):
        assert minted.secret[4:-4] not in text
        assert minted.digest not in text


@settings(deadline=None)  # pure and fast; a busy machine must not fail it
@given(st.text(max_size=80))
def test_random_strings_never_parse_unless_well_formed(candidate: str) -> None:
    well_formed = (
        len(candidate) == 53
        and candidate[:4] in ("twp_", "two_")
        and set(candidate[4:]) <= set(ALPHABET)
        and candidate[-6:] == crc32_base62(candidate[:-6])
    )
    try:
        credentials.parse(candidate)
    except MalformedToken:
        assert not well_formed
    else:
        assert well_formed


@settings(deadline=None)  # pure and fast; a busy machine must not fail it
@given(
    st.sampled_from(["twp_", "two_"]),
    st.text(alphabet=ALPHABET, min_size=43, max_size=43),
    st.text(alphabet=ALPHABET, min_size=6, max_size=6),
)
def test_well_shaped_strings_parse_exactly_when_the_checksum_matches(
    prefix: str, randomness: str, given_checksum: str
) -> None:
    body = prefix + randomness
    candidate = body + given_checksum
    assert SCANNER.fullmatch(candidate)
    if given_checksum == crc32_base62(body):
        assert credentials.parse(candidate).digest == credentials.hash_token(candidate)
    else:
        with pytest.raises(MalformedToken, match="checksum"):
            credentials.parse(candidate)
    assert (
        credentials.parse(body + crc32_base62(body)).last_characters
        == (body + crc32_base62(body))[-4:]
    )
