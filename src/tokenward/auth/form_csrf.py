"""A page's form post proves its origin with the session's CSRF token in a hidden field.

The authentication middleware reads only the ``X-CSRF-Token`` header, so it marks every form post
``csrf-failed``. A route that takes the form (``form: PostedForm``) accepts the hidden field
instead: every access dependency calls ``accept_form_csrf`` before it looks at the caller, and so
does the form's own dependency, so the check runs first whatever order the route declares its
parameters in. A missing or wrong field leaves the mark, and the post is refused with 403. Routes
that take no form (the API) are untouched: they need the header.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from tokenward.auth.caller import authentication_of
from tokenward.auth.middleware import AUTHENTICATION_KEY
from tokenward.auth.principal import Authentication

__all__ = ["PostedForm", "accept_form_csrf"]

CSRF_FIELD = "csrf_token"


async def posted_form(request: Request) -> FormData:
    """The posted form, its CSRF field accepted (when it matches) before anything reads it."""
    await accept_form_csrf(request)
    await request.body()  # keep the raw body readable for anyone after the form parser
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def _depends_on_form(dependant: Dependant) -> bool:
    return any(
        dependency.call is posted_form or _depends_on_form(dependency)
        for dependency in dependant.dependencies
    )


async def accept_form_csrf(request: Request) -> None:
    """Clear the middleware's ``csrf-failed`` mark when the route takes a form and the form's
    hidden field matches the session's token."""
    authentication = authentication_of(request)
    principal, error = authentication.principal, authentication.error
    if principal is None or principal.csrf_token is None or error is None:
        return
    # Only on this path (a session's unsafe request without the header): walking is cheap.
    route = request.scope.get("route")
    if (
        error.code != "csrf-failed"
        or not isinstance(route, APIRoute)
        or not _depends_on_form(route.dependant)
    ):
        return
    await request.body()  # keep the raw body readable for anyone after the form parser
    given = (await request.form()).get(CSRF_FIELD)
    if isinstance(given, str) and hmac.compare_digest(
        given.encode(), principal.csrf_token.encode()
    ):
        request.scope["state"][AUTHENTICATION_KEY] = Authentication(principal)
