"""The caller's second factor: a TOTP authenticator, managed only from a browser session."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from tokenward.actions.recovery_codes import new_recovery_codes
from tokenward.actions.two_factor import begin_enrolment, confirm_enrolment, remove_two_factor
from tokenward.api.bodies import body_schema, parse_body
from tokenward.api.caching import NO_STORE
from tokenward.api.docs import AUTHENTICATED, errors
from tokenward.api.schemas import TwoFactorSetupOut, TwoFactorStatusOut
from tokenward.auth.access import BrowserUser
from tokenward.auth.database import Database
from tokenward.auth.login_throttle import throttle_of
from tokenward.errors import ApiError
from tokenward.request_bodies import TwoFactorCode
from tokenward.store.tables import User

router = APIRouter(prefix="/api/0/users/me/2fa", tags=["two-factor"])


def _status(user: User) -> TwoFactorStatusOut:
    return TwoFactorStatusOut(
        enabled=user.has_two_factor, pending=user.totp_pending_secret is not None
    )


@router.get("/", response_model=TwoFactorStatusOut, responses=errors(*AUTHENTICATED))
async def status(principal: BrowserUser, db: Database) -> TwoFactorStatusOut:
    user = await db.get(User, principal.user_id)
    if user is None:
        raise ApiError.not_found()
    return _status(user)


@router.post(
    "/setup/",
    status_code=201,
    response_model=TwoFactorSetupOut,
    responses=errors(409, *AUTHENTICATED),
    dependencies=[NO_STORE],
)
async def setup(principal: BrowserUser, db: Database) -> TwoFactorSetupOut:
    """Start enrolment: a new secret to add to an authenticator app, confirmed by its first code."""
    enrolment = await begin_enrolment(db, principal.user_id)
    return TwoFactorSetupOut(
        secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg
    )


@router.post(
    "/confirm/",
    response_model=TwoFactorStatusOut,
    responses=errors(400, 429, *AUTHENTICATED),
    openapi_extra=body_schema(TwoFactorCode),
)
async def confirm(
    request: Request,
    principal: BrowserUser,
    db: Database,
) -> TwoFactorStatusOut:
    body = await parse_body(request, TwoFactorCode)
    user = await throttle_of(request).check_code(
        principal.user_id,
        lambda: confirm_enrolment(db, principal.user_id, body.code, principal.session_key_hash),
    )
    return _status(user)


@router.post(
    "/remove/",
    response_model=TwoFactorStatusOut,
    responses=errors(400, 409, 429, *AUTHENTICATED),
    openapi_extra=body_schema(TwoFactorCode),
)
async def remove(
    request: Request,
    principal: BrowserUser,
    db: Database,
) -> TwoFactorStatusOut:
    """Turn two-factor off, with a current code; refused while an organization requires it."""
    body = await parse_body(request, TwoFactorCode)
    user = await throttle_of(request).check_code(
        principal.user_id, lambda: remove_two_factor(db, principal.user_id, body.code)
    )
    return _status(user)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(
        description="Single-use codes that sign you in without the app. Shown once; keep them safe."
    )


@router.post(
    "/recovery-codes/",
    status_code=201,
    response_model=RecoveryCodesOut,
    responses=errors(409, *AUTHENTICATED),
)
async def regenerate_recovery_codes(
    response: Response,
    principal: BrowserUser,
    db: Database,
) -> RecoveryCodesOut:
    """Ten new recovery codes; the old ones stop working."""
    user = await db.get(User, principal.user_id)
    if user is None or not user.has_two_factor:
        raise ApiError.conflict("Turn on two-factor authentication first.")
    response.headers["Cache-Control"] = "no-store"
    return RecoveryCodesOut(recovery_codes=await new_recovery_codes(db, user.id))
