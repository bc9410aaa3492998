"""The authorization code flow with state, nonce and PKCE (S256), through Authlib's OAuth 2 client,
and the ID token's checks: signature by the provider's JWKS, issuer, audience, expiry, nonce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tokenward.oidc.provider import (
    HTTP_TIMEOUT_SECONDS,
    ProviderMetadata,
    ProviderUnreachable,
    get_json,
)

__all__ = [
    "Client",
    "FlowSecrets",
    "Identity",
    "SignInRefused",
    "authorization_url",
    "check_id_token",
    "finish",
    "identity_of",
]

SCOPES = "openid email profile"
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
_LEEWAY_SECONDS = 60


class SignInRefused(Exception):
    """The provider answered, but what it answered cannot sign anyone in. Safe to show."""


@dataclass(frozen=True, slots=True)
class Client:
    """Tokenward as registered at the provider."""

    client_id: str
    client_secret: str
    redirect_uri: str

    def __repr__(self) -> str:
        return f"Client(client_id={self.client_id!r})"  # never the secret


@dataclass(frozen=True, slots=True)
class FlowSecrets:
    """Per sign-in values: kept by us between the redirect and the callback, used once."""

    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def new(cls) -> FlowSecrets:
        return cls(generate_token(43), generate_token(43), generate_token(64))

    def __repr__(self) -> str:
        return "FlowSecrets(...)"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says signed in, from a checked ID token."""

    subject: str
    email: str
    email_verified: bool
    name: str


def _oauth(client: Client) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        scope=SCOPES,
        redirect_uri=client.redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT_SECONDS,
    )


def authorization_url(provider: ProviderMetadata, client: Client, flow: FlowSecrets) -> str:
    """Where to send the browser: the code flow, with state, nonce and an S256 challenge."""
    oauth = _oauth(client)
    url, _ = oauth.create_authorization_url(
        provider.authorization_endpoint,
        state=flow.state,
        code_verifier=flow.code_verifier,
        nonce=flow.nonce,
    )
    return str(url)


async def _exchange(provider: ProviderMetadata, client: Client, code: str, verifier: str) -> str:
    async with _oauth(client) as oauth:
        try:
            token: dict[str, Any] = await oauth.fetch_token(
                provider.token_endpoint, code=code, code_verifier=verifier
            )
        except httpx.HTTPError as error:
            raise ProviderUnreachable(
                f"the token endpoint {provider.token_endpoint} could not be reached "
                f"({type(error).__name__})"
            ) from None
        except Exception as error:  # Authlib raises its OAuthError family, or ValueError
            raise SignInRefused(
                f"the identity provider refused to exchange the code ({type(error).__name__})"
            ) from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused("the identity provider sent no ID token")
    return id_token


async def _keys(provider: ProviderMetadata) -> KeySet:
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
        document = await get_json(http, provider.jwks_uri, "The key set")
    try:
        return KeySet.import_key_set(document)
    except (JoseError, ValueError, TypeError, KeyError):
        raise ProviderUnreachable(f"the key set at {provider.jwks_uri} is not valid") from None


def check_id_token(
    id_token: str, keys: KeySet, *, issuer: str, client_id: str, nonce: str
) -> dict[str, Any]:
    """The ID token's claims when its signature, issuer, audience, expiry and nonce hold."""
    try:
        decoded = jwt.decode(id_token, keys, algorithms=_ALGORITHMS)
    except (JoseError, ValueError, TypeError, KeyError):
        raise SignInRefused("the ID token's signature does not verify") from None
    claims = dict(decoded.claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=_LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        reason = error.description or error.error
        raise SignInRefused(f"the ID token was refused ({reason})") from None
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise SignInRefused("the ID token was issued to another client")
    return claims


def identity_of(claims: dict[str, Any]) -> Identity:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused("the identity provider sent no email address")
    name = claims.get("name")
    return Identity(
        subject=str(claims["sub"]),
        email=email.strip().lower(),
        email_verified=claims.get("email_verified") is True,
        name=name.strip()[:200] if isinstance(name, str) else "",
    )


async def finish(
    provider: ProviderMetadata, client: Client, flow: FlowSecrets, code: str
) -> Identity:
    """Exchange the code (sending the PKCE verifier) and check the ID token it brings."""
    id_token = await _exchange(provider, client, code, flow.code_verifier)
    keys = await _keys(provider)
    claims = check_id_token(
        id_token, keys, issuer=provider.issuer, client_id=client.client_id, nonce=flow.nonce
    )
    return identity_of(claims)
