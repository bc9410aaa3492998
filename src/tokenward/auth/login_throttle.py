"""Slow down guessing: sign-in attempts per client address and per email, second-factor codes
per user.

An attempt is reserved (counted) before the password or code is checked, in one atomic step in
the store, so parallel requests cannot all slip under the limit, and every process sharing the
store counts against the same limit. An attempt that succeeds is given back: only failures use
up the allowance. A refused attempt is given back too, so hammering a closed door does not keep
it closed longer than the window.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request

from tokenward.config import ThrottleLimits
from tokenward.errors import ApiError
from tokenward.store.attempts import forget_expired, give_back, reserve
from tokenward.store.engine import Store

__all__ = ["LoginThrottle", "ThrottleLimits", "throttle_of"]

log = logging.getLogger("tokenward.auth")

Result = TypeVar("Result")

# Expired counters are swept by every so many reservations of a process.
_SWEEP_EVERY = 200


@dataclass(frozen=True)
class Reservation:
    """The counters one attempt was counted in: (key, start of the window it counted in)."""

    counted: tuple[tuple[str, float], ...]


def _key(kind: str, value: str) -> str:
    # Hashed: what was typed as an email may be a pasted password, and keys stay short.
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


class LoginThrottle:
    def __init__(
        self,
        store: Store,
        limits: ThrottleLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.limits = limits or ThrottleLimits()
        self._clock = clock
        self._reservations = itertools.count(1)

    async def reserve_sign_in(self, address: str | None, email: str) -> Reservation:
        keys = [(_key("email", email.strip().lower()), self.limits.per_email)]
        if address and self.limits.per_address is not None:
            keys.append((_key("address", address), self.limits.per_address))
        return await self._reserve(keys, "failed sign-in attempts")

    async def reserve_code(self, user_id: int) -> Reservation:
        keys = [(_key("user", str(user_id)), self.limits.per_user)]
        return await self._reserve(keys, "wrong authenticator codes")

    async def give_back(self, reservation: Reservation) -> None:
        async with self.store.session() as db:
            for key, window_started in reservation.counted:
                await give_back(db, key, window_started)
            await db.commit()

    async def check_code(self, user_id: int, attempt: Callable[[], Awaitable[Result]]) -> Result:
        """Run ``attempt`` (which checks a second-factor code of ``user_id``) within the user's
        allowance; it counts as a failure when it raises."""
        reservation = await self.reserve_code(user_id)
        result = await attempt()
        await self.give_back(reservation)
        return result

    async def _reserve(self, keys: list[tuple[str, int]], what: str) -> Reservation:
        now = self._clock()
        window = self.limits.window_seconds
        waits: list[float] = []
        counted: list[tuple[str, float]] = []
        async with self.store.session() as db:
            # Always in the same order (email before address), so two reservations never wait
            # on each other's rows.
            for key, limit in keys:
                attempts, window_started = await reserve(db, key, now, window)
                counted.append((key, window_started))
                if attempts > limit:
                    waits.append(window_started + window - now)
            if next(self._reservations) % _SWEEP_EVERY == 0:
                await forget_expired(db, now - window)
            await db.commit()
        reservation = Reservation(tuple(counted))
        if not waits:
            return reservation
        await self.give_back(reservation)
        wait = max(1, math.ceil(max(waits)))
        log.warning("throttled: too many %s", what)
        raise ApiError(
            429,
            "rate-limited",
            f"Too many {what}; try again in {wait} seconds.",
            {"retry_after": wait},
            headers={"Retry-After": str(wait)},
        )


def throttle_of(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle
