"""Two-factor authentication with a TOTP authenticator app: enrol, confirm, remove, verify."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.errors import ApiError
from tokenward.store.recovery_codes import RecoveryCode
from tokenward.store.tables import LoginSession, Membership, Organization, User

__all__ = [
    "begin_enrolment",
    "confirm_enrolment",
    "consume_code",
    "has_two_factor",
    "organizations_requiring_2fa",
    "pending_enrolment",
    "remove_two_factor",
]

ISSUER = "Tokenward"


@dataclass(frozen=True)
class Enrolment:
    """What the user copies into an authenticator app: the secret as text and as a QR code."""

    secret: str
    otpauth_uri: str
    qr_svg: str

    def __repr__(self) -> str:
        return "Enrolment(<secret hidden>)"


def matching_step(secret: str | None, code: str | None, now: float | None = None) -> int | None:
    """The time step whose code this is: the current one or a neighbour, to forgive a clock a
    little off. None when the code matches none of them."""
    if not secret or not code:
        return None
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def consume_code(user: User, secret: str | None, code: str | None) -> bool:
    """Accept a code once: a code of a step at or before the last accepted one is a replay
    (RFC 6238, section 5.2). The caller commits ``user`` to make the use stick."""
    step = matching_step(secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg: str = image.to_string(encoding="unicode")
    return svg


async def _user(db: AsyncSession, user_id: int) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise ApiError.not_found()
    return user


async def has_two_factor(db: AsyncSession, user_id: int) -> bool:
    user = await db.get(User, user_id)
    return user is not None and user.has_two_factor


async def begin_enrolment(db: AsyncSession, user_id: int) -> Enrolment:
    """Keep a new pending secret; it becomes the user's second factor once a code confirms it."""
    user = await _user(db, user_id)
    if user.has_two_factor:
        raise ApiError.conflict("Two-factor authentication is already on; remove it first.")
    secret = pyotp.random_base32()
    user.totp_pending_secret = secret
    user.totp_last_step = None
    await db.commit()
    return _enrolment(user, secret)


async def pending_enrolment(db: AsyncSession, user_id: int) -> Enrolment | None:
    """The enrolment begun and not yet confirmed, to show again (e.g. after a wrong code)."""
    user = await _user(db, user_id)
    if user.has_two_factor or user.totp_pending_secret is None:
        return None
    return _enrolment(user, user.totp_pending_secret)


def _enrolment(user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Enrolment(secret, uri, _qr_svg(uri))


async def confirm_enrolment(
    db: AsyncSession, user_id: int, code: str, session_key_hash: str | None = None
) -> User:
    """Make the pending authenticator the user's second factor. The session that proved it with
    a code (``session_key_hash``) counts as two-factor from now on; other sessions opened before
    it do not, until they sign in again with a code."""
    user = await _user(db, user_id)
    if user.totp_pending_secret is None:
        raise ApiError.invalid("code", "Start the set-up first: there is no pending authenticator.")
    if not consume_code(user, user.totp_pending_secret, code):
        raise ApiError.invalid("code", "The code does not match; check the app and try again.")
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    changes = [Change.user(user.id)]
    if session_key_hash is not None:
        proved = await db.scalars(
            update(LoginSession)
            .where(LoginSession.key_hash == session_key_hash, LoginSession.user_id == user.id)
            .values(two_factor=True)
            .returning(LoginSession.id)
        )
        changes.extend(Change.session(session_id) for session_id in proved.all())
    await commit_changes(db, *changes)
    return user


async def organizations_requiring_2fa(db: AsyncSession, user_id: int) -> list[str]:
    query = (
        select(Organization.slug)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user_id, Organization.require_2fa.is_(True))
        .order_by(Organization.slug)
    )
    return list((await db.scalars(query)).all())


async def remove_two_factor(db: AsyncSession, user_id: int, code: str) -> User:
    user = await _user(db, user_id)
    if not user.has_two_factor:
        raise ApiError.conflict("Two-factor authentication is not on.")
    if not consume_code(user, user.totp_secret, code):
        raise ApiError.invalid("code", "The code does not match; check the app and try again.")
    requiring = await organizations_requiring_2fa(db, user_id)
    if requiring:
        raise ApiError(
            409,
            "conflict",
            "These organizations require two-factor authentication: "
            + ", ".join(requiring)
            + ". Leave them, or ask their owners to lift the requirement, first.",
            {"organizations": requiring},
        )
    user.totp_secret = None
    user.totp_last_step = None  # steps are per secret; a new authenticator starts afresh
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await commit_changes(db, Change.user(user.id))
    return user
