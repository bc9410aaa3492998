"""Liveness that means something: the store answered."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tokenward.api.docs import errors
from tokenward.api.schemas import HealthOut
from tokenward.auth.gate import public
from tokenward.store.engine import Store

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, responses=errors(), dependencies=[public()])
async def healthz(request: Request) -> JSONResponse:
    store: Store = request.app.state.store
    await store.ping()  # a failure becomes 503 unavailable in the error handlers
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})
