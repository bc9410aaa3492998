"""Form posts: validation with the API's own request models, and refusals shown on the form.

Signed-in forms carry the session's CSRF token in a hidden field, which a route's access checks
when the route takes the form (``form: PostedForm``, ``tokenward.auth.form_csrf``).

The sign-in form has no session yet: it uses a signed double-submit token, a random nonce in a
cookie and the same nonce, signed and timestamped, in the form.
"""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from typing import Any, TypeVar

from fastapi import Request, Response
from itsdangerous import BadSignature, TimestampSigner
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from tokenward.errors import ApiError
from tokenward.http.signed_cookies import cookie_is_secure
from tokenward.request_bodies import invalid_request, validation_errors

__all__ = [
    "error_context",
    "field_errors",
    "issue_login_token",
    "login_token_matches",
    "set_login_nonce",
    "shown_on_form",
    "status_for",
    "suggested_slug",
    "text",
    "validated",
]

# Refusals an action makes about the form's content are shown on the form; anything else
# (a 404, a 503) gets the error page.
FORM_ERRORS = frozenset({400, 403, 409})
LOGIN_NONCE_COOKIE = "tokenward_login_nonce"
_LOGIN_TOKEN_MAX_AGE = 3600

Model = TypeVar("Model", bound=BaseModel)


def shown_on_form(error: ApiError, *codes: str) -> ApiError:
    """The refusal, to draw the form again with it; any other error (and ``codes`` are shown
    too) is raised again for the error page. Called in the ``except ApiError`` of a post."""
    if error.status not in FORM_ERRORS and error.code not in codes:
        raise error
    return error


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str)]


def validated(model: type[Model], data: dict[str, Any]) -> Model:
    """Validate like the API does, so a page accepts exactly what the endpoint accepts."""
    if any(isinstance(value, str) and "\x00" in value for value in data.values()):
        raise invalid_request([{"field": "body", "message": "Text may not contain NUL."}])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid_request(validation_errors(error)) from None


def field_errors(error: ApiError | None, prefix: str = "") -> dict[str, str]:
    """``{"field": "message"}`` from a 400 ``invalid-request``, for messages beside the inputs.

    A field is named by its first part after ``prefix`` ("scopes.0" -> "scopes";
    with prefix "settings.", "settings.require_2fa" -> "require_2fa").
    """
    if error is None:
        return {}
    items = error.extra.get("errors") or []
    found = {}
    for item in items:
        if isinstance(item, dict):
            field = str(item.get("field", "")).removeprefix(prefix)
            message = str(item.get("message", ""))
            if "should match pattern" in message:
                message = PLAIN_PATTERN_ERRORS.get(field.split(".")[0], "is not in the right form")
            found[field.split(".")[0]] = message
    return found


# A pattern the API names as a regular expression, in words for the person filling the form.
PLAIN_PATTERN_ERRORS = {
    "slug": "Use only lowercase letters (a to z), digits and dashes, starting and ending with a "
    "letter or digit, up to 50 characters.",
}


def suggested_slug(name: str) -> str:
    """A slug made from a name: "Acme Corp." → "acme-corp"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:50].rstrip("-")


def error_context(error: ApiError | None, prefix: str = "") -> dict[str, Any]:
    """What every form template reads about a refused submission."""
    return {"error": error, "errors": field_errors(error, prefix)}


def status_for(error: ApiError | None) -> int:
    """A page drawn again after a refused submission answers with the refusal's status."""
    return error.status if error is not None else 200


def _login_signer(request: Request) -> TimestampSigner:
    return TimestampSigner(request.app.state.settings.secret_key, salt="tokenward.login-form")


def issue_login_token(request: Request) -> tuple[str, str]:
    """A fresh nonce for the cookie and its signed, timestamped form for the hidden field."""
    nonce = secrets.token_urlsafe(24)
    return nonce, _login_signer(request).sign(nonce).decode("ascii")


def set_login_nonce(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        max_age=_LOGIN_TOKEN_MAX_AGE,
        path="/login/",
        httponly=True,
        samesite="strict",
        secure=cookie_is_secure(request),
    )


def login_token_matches(request: Request, given: str) -> bool:
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not nonce or not given:
        return False
    try:
        signed_nonce = _login_signer(request).unsign(given, max_age=_LOGIN_TOKEN_MAX_AGE)
    except BadSignature:
        return False
    return hmac.compare_digest(signed_nonce, nonce.encode())
