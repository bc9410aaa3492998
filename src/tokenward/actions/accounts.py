"""Users, login sessions and personal tokens: what a user does for themselves."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward import credentials
from tokenward.actions.recovery_codes import looks_like_recovery_code, use_recovery_code
from tokenward.actions.two_factor import consume_code
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.login_throttle import LoginThrottle
from tokenward.auth.sessions import SessionCookies, hash_session_key
from tokenward.errors import ApiError
from tokenward.passwords import (
    check_password,
    hash_password,
    hash_password_off_loop,
    needs_rehash,
)
from tokenward.store.ids import parse_id
from tokenward.store.tables import LoginSession, PersonalToken, User, utcnow

__all__ = [
    "create_user",
    "end_session",
    "mint_personal_token",
    "normalize_email",
    "personal_token_names",
    "personal_tokens_listed",
    "personal_tokens_of",
    "revoke_personal_token",
    "start_session",
    "user_id_of",
]

log = logging.getLogger("tokenward.auth")


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    db: AsyncSession, *, email: str, password: str, name: str = "", superuser: bool = False
) -> User:
    email = normalize_email(email)
    if not email or "@" not in email:
        raise ApiError.invalid("email", "must be a valid email address")
    if len(password) < 8:
        raise ApiError.invalid("password", "must be at least 8 characters long")
    taken = await db.scalar(select(func.count()).select_from(User).where(User.email == email))
    if taken:
        raise ApiError.conflict(f"A user with the email {email} already exists.")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        is_superuser=superuser,
    )
    db.add(user)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise ApiError.conflict(f"A user with the email {email} already exists.") from None
    return user


async def start_session(
    db: AsyncSession,
    cookies: SessionCookies,
    *,
    email: str,
    password: str,
    max_age: dt.timedelta,
    ip_address: str | None,
    throttle: LoginThrottle,
    code: str | None = None,
    password_checked_for: int | None = None,
) -> tuple[User, str]:
    """Check the password and open a session; returns the user and the new session key.

    The attempt is counted before anything is checked (``throttle``) and given back once it
    succeeds. No transaction is open while the password is hashed. ``password_checked_for`` is
    the id of a user whose password this sign-in already checked (the sign-in page's second
    step, which asks only for the code): the password is not asked again, and every other check
    stays."""
    email = normalize_email(email)
    reservation = await throttle.reserve_sign_in(ip_address, email)
    user = await db.scalar(select(User).where(User.email == email))
    await db.commit()  # end the read: the connection goes back to the pool while hashing
    proven = user is not None and password_checked_for == user.id
    # An unknown email still costs a hash, so timing does not tell which emails exist.
    valid = proven or await check_password(user.password_hash if user else None, password)
    if user is None or not valid:
        # Only a known account's address is logged: what was typed may be a pasted password.
        who = f"user {user.id} ({user.email})" if user is not None else "an unknown email"
        log.warning("failed login for %s from %s", who, ip_address)
        raise ApiError(401, "invalid-credentials", "The email or password is not correct.")
    if user.has_two_factor and not consume_code(user, user.totp_secret, code):
        if not code:
            await throttle.give_back(reservation)  # the password was right; the code comes next
            raise ApiError(
                401,
                "2fa-code-required",
                "Two-factor authentication is on: send the code from your authenticator app, "
                "or one of your recovery codes, as 'code'.",
            )
        recovered = looks_like_recovery_code(code) and await use_recovery_code(
            db, user, code, ip_address
        )
    else:
        recovered = True
    if not recovered:
        log.warning("failed two-factor code for user %s from %s", user.id, ip_address)
        raise ApiError(401, "invalid-2fa-code", "The authenticator code is not correct.")
    if not proven and needs_rehash(user.password_hash):
        user.password_hash = await hash_password_off_loop(password)
    key = cookies.new_key()
    now = utcnow()
    db.add(
        LoginSession(
            key_hash=hash_session_key(key),
            user_id=user.id,
            created_at=now,
            expires_at=now + max_age,
            ip_address=ip_address,
            two_factor=user.has_two_factor,  # its code was checked above
        )
    )
    await db.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.expires_at < now)
    )
    await db.commit()
    # Given back once this transaction is over: on SQLite the counters share its write lock.
    await throttle.give_back(reservation)
    return user, key


async def end_session(db: AsyncSession, key_hash: str) -> None:
    ended = await db.scalars(
        delete(LoginSession).where(LoginSession.key_hash == key_hash).returning(LoginSession.id)
    )
    await commit_changes(db, *(Change.session(session_id) for session_id in ended.all()))


def personal_tokens_of(user_id: int) -> Select[PersonalToken]:
    return select(PersonalToken).where(
        PersonalToken.user_id == user_id, PersonalToken.revoked_at.is_(None)
    )


async def personal_token_names(db: AsyncSession, user_id: int) -> list[str]:
    """The names of the user's live personal tokens."""
    query = personal_tokens_of(user_id).with_only_columns(PersonalToken.name)
    return list(await db.scalars(query))


async def user_id_of(db: AsyncSession, email: str) -> int | None:
    found: int | None = await db.scalar(select(User.id).where(User.email == email))
    return found


async def mint_personal_token(
    db: AsyncSession,
    user_id: int,
    *,
    name: str,
    scopes: list[str],
    expires_at: dt.datetime | None,
) -> tuple[PersonalToken, str]:
    minted = credentials.mint(credentials.TokenKind.PERSONAL)
    token = PersonalToken(
        user_id=user_id,
        name=name,
        token_hash=minted.digest,
        token_last_characters=minted.last_characters,
        scopes=" ".join(sorted(scopes)),
        expires_at=expires_at,
        created_at=utcnow(),
    )
    db.add(token)
    await db.commit()
    return token, minted.secret


async def revoke_personal_token(db: AsyncSession, user_id: int, token_id: str) -> PersonalToken:
    token = None
    wanted = parse_id(token_id)
    if wanted is not None:
        token = await db.scalar(personal_tokens_of(user_id).where(PersonalToken.id == wanted))
    if token is None:
        raise ApiError.not_found()
    token.revoked_at = utcnow()
    await commit_changes(db, Change.personal_token(token.id))
    return token


async def personal_tokens_listed(
    db: AsyncSession, user_id: int, *, limit: int
) -> Sequence[PersonalToken]:
    """The person's ``limit`` newest personal tokens."""
    query = personal_tokens_of(user_id).order_by(PersonalToken.id.desc()).limit(limit)
    return (await db.scalars(query)).all()
