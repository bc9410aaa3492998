"""Recovery codes: single-use codes that sign a person in when their authenticator is lost.

Ten codes are made at a time (making new ones replaces the old). Only SHA-256 hashes are kept:
each code carries 50 random bits and sign-in attempts are throttled, so a slow hash buys nothing.
Using a code is written to the audit log of each of the person's organizations and emailed to
them; so is an operator's reset of their second factor.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.auth.changes import CHANNEL, Change
from tokenward.auth.coherence import commit_changes
from tokenward.notices.account_notices import recovery_code_used_notice, two_factor_reset_notice
from tokenward.notices.outbox import enqueue
from tokenward.store.audit import record_event
from tokenward.store.recovery_codes import RecoveryCode
from tokenward.store.tables import Membership, User, utcnow

__all__ = [
    "looks_like_recovery_code",
    "new_recovery_codes",
    "recovery_codes_left",
    "reset_two_factor",
    "use_recovery_code",
]

CODE_COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _normalized(code: str) -> str:
    return "".join(code.lower().split()).replace("-", "")


def looks_like_recovery_code(code: str | None) -> bool:
    normalized = _normalized(code or "")
    return len(normalized) == 10 and normalized.isalnum()


def _hash(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{_normalized(code)}".encode()).hexdigest()


def _new_code() -> str:
    letters = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{letters[:5]}-{letters[5:]}"


async def new_recovery_codes(db: AsyncSession, user_id: int) -> list[str]:
    """Replace the user's codes with ten new ones and return them (shown once). Commits."""
    codes = [_new_code() for _ in range(CODE_COUNT)]
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    now = utcnow()
    db.add_all(
        RecoveryCode(user_id=user_id, code_hash=_hash(user_id, c), created_at=now) for c in codes
    )
    await db.commit()
    return codes


async def recovery_codes_left(db: AsyncSession, user_id: int) -> int:
    query = select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
    )
    return int(await db.scalar(query) or 0)


async def _audit_everywhere(
    db: AsyncSession,
    user: User,
    event: str,
    *,
    actor_type: str,
    actor_id: str | None,
    actor_name: str,
    ip_address: str | None,
    data: dict[str, object],
) -> None:
    organizations = await db.scalars(
        select(Membership.organization_id).where(Membership.user_id == user.id)
    )
    for organization_id in organizations.all():
        record_event(
            db,
            organization_id=organization_id,
            event=event,
            actor_type=actor_type,
            actor_id=actor_id,
            actor_name=actor_name,
            ip_address=ip_address,
            data={"user_id": str(user.id), "email": user.email, **data},
        )


async def use_recovery_code(
    db: AsyncSession, user: User, code: str, ip_address: str | None
) -> bool:
    """Spend one unused code of ``user``; audit and email it. The caller commits."""
    wanted = _hash(user.id, code)
    unused = await db.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    found = next((r for r in unused.all() if hmac.compare_digest(r.code_hash, wanted)), None)
    if found is None:
        return False
    # Spent atomically: of two sign-ins racing with the same code, one wins.
    spent = await db.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == found.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if getattr(spent, "rowcount", 0) != 1:
        return False
    remaining = await recovery_codes_left(db, user.id)
    await _audit_everywhere(
        db,
        user,
        "user.recovery-code-used",
        actor_type="user",
        actor_id=str(user.id),
        actor_name=user.email,
        ip_address=ip_address,
        data={"remaining": remaining},
    )
    notice = recovery_code_used_notice(remaining=remaining, ip_address=ip_address)
    enqueue(
        db,
        recipient=user.email,
        subject=notice.subject,
        body=notice.body,
        kind="user.recovery-code-used",
    )
    return True


async def reset_two_factor(db: AsyncSession, email: str) -> User | None:
    """An operator's reset for a person who lost their authenticator and their codes: the
    second factor and its codes are removed, audited and emailed. None for an unknown email."""
    user = await db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return None
    user.totp_secret = user.totp_pending_secret = None
    user.totp_last_step = None
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await _audit_everywhere(
        db,
        user,
        "user.2fa-reset",
        actor_type="operator",
        actor_id=None,
        actor_name="tokenward reset-2fa",
        ip_address=None,
        data={},
    )
    notice = two_factor_reset_notice()
    enqueue(
        db, recipient=user.email, subject=notice.subject, body=notice.body, kind="user.2fa-reset"
    )
    change = Change.user(user.id)
    if db.get_bind().dialect.name == "postgresql":
        # Run from the command line, outside any server: tell the servers' listeners directly.
        await db.execute(select(func.pg_notify(CHANNEL, change.encode())))
    await commit_changes(db, change)
    return user
