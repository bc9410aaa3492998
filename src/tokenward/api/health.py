"""Liveness that means something: the store answered (within the last second, see StoreHealth)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tokenward.api.docs import errors
from tokenward.api.schemas import HealthOut
from tokenward.auth.access import public
from tokenward.auth.authenticator import unavailable
from tokenward.store.health import StoreHealth

router = APIRouter(tags=["health"])

_OK = b'{"status":"ok"}'


@router.get("/healthz", response_model=HealthOut, responses=errors(), dependencies=[public()])
async def healthz(request: Request) -> Response:
    health: StoreHealth = request.app.state.health
    if not await health.check():
        raise unavailable()
    return Response(_OK, media_type="application/json", headers={"Cache-Control": "no-store"})
