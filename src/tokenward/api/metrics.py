"""``GET /metrics``: this process's counters in Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tokenward.auth.access import public
from tokenward.metrics import CONTENT_TYPE_LATEST, Metrics

__all__ = ["router"]

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False, dependencies=[public()])
async def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE_LATEST)
