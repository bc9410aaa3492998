"""A bounded least-recently-used map whose entries also expire after a fixed time."""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, Literal, TypeVar

__all__ = ["MISSING", "ExpiringLRU", "Missing"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Missing(enum.Enum):
    MISSING = "missing"


MISSING: Literal[Missing.MISSING] = Missing.MISSING


class ExpiringLRU(Generic[K, V]):
    """At most ``max_entries`` entries; each one is forgotten ``ttl_seconds`` after it was put.

    ``None`` is a legitimate value (e.g. "not a member"); absence is ``MISSING``.
    """

    __slots__ = ("_clock", "_entries", "max_entries", "ttl_seconds")

    def __init__(
        self,
        max_entries: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | Literal[Missing.MISSING]:
        entry = self._entries.get(key)
        if entry is None:
            return MISSING
        if self._clock() >= entry[0]:
            del self._entries[key]
            return MISSING
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (self._clock() + self.ttl_seconds, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries
