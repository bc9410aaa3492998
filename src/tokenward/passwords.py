"""Password hashing with argon2id; the stored hash names its parameters, so it upgrades on use.

Hashing takes a fifth of a second of CPU on purpose. Requests hash through ``check_password`` and
``hash_password_off_loop``: in worker threads (argon2 releases the GIL), at most
``HASHING_THREADS`` at a time, so a flood of sign-ins queues for the hasher while everything else
the event loop serves stays fast.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from functools import partial

import anyio.to_thread
from anyio import CapacityLimiter
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "HASHING_THREADS",
    "check_password",
    "hash_password",
    "hash_password_off_loop",
    "needs_rehash",
    "verify_password",
]

_hasher = PasswordHasher()
# Checked when the email is unknown, so a missing user costs as much time as a bad password.
_DUMMY_HASH = _hasher.hash("tokenward-timing-equalizer")
# Half the CPUs: the other half stays free for the requests that do not hash.
HASHING_THREADS = max(1, (os.cpu_count() or 2) // 2)
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def _limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()  # one per event loop: a limiter belongs to its loop
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(HASHING_THREADS)
    return limiter


async def check_password(stored_hash: str | None, password: str) -> bool:
    """``verify_password`` in a hashing thread."""
    return await anyio.to_thread.run_sync(
        partial(verify_password, stored_hash, password), limiter=_limiter()
    )


async def hash_password_off_loop(password: str) -> str:
    """``hash_password`` in a hashing thread."""
    return await anyio.to_thread.run_sync(partial(hash_password, password), limiter=_limiter())
