"""How deeply a parsed JSON value nests, found without recursion.

Anything that walks a value recursively (validation, our own checks, error messages) can run out
of stack on a small body nested hundreds of levels deep; bodies are measured first and refused
above ``MAX_JSON_DEPTH``, which no request of ours comes near.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_JSON_DEPTH", "too_deep"]

MAX_JSON_DEPTH = 32


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
