"""A request body as JSON when it is JSON, for checks that look at it before the handler."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from tokenward.http.json_depth import too_deep

__all__ = ["json_or_none"]


async def json_or_none(request: Request) -> Any:
    """The parsed body, or None when it is not JSON or nests too deeply (the handler refuses
    such a body with a clear 400)."""
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return None if too_deep(data) else data
