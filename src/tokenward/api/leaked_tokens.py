"""Leaked-token reports: signed batches from a secret scanner, and single strings from people.

Both revoke through ``report_leaks``. The body is read (and a scanner's signature checked) before
the store is touched, so no connection waits on a slow client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tokenward.actions.leaked_tokens import (
    MAX_ITEMS,
    LeakReporter,
    LeakVerdict,
    ReportedLeak,
    report_leaks,
)
from tokenward.api.bodies import parse_body
from tokenward.api.docs import errors
from tokenward.api.leak_schemas import (
    LeakedTokenReport,
    LeakVerdictOut,
    UserLeakVerdictOut,
    inline_body_schema,
)
from tokenward.auth.access import BrowserUser, public
from tokenward.auth.caller import client_ip
from tokenward.auth.principal import ActorType
from tokenward.errors import ApiError
from tokenward.request_bodies import invalid_request
from tokenward.scanner_keys import ScannerKeys
from tokenward.store.engine import Store
from tokenward.store.leak_report_quota import reserve_report

log = logging.getLogger("tokenward.secret_scanning")

router = APIRouter(tags=["leaked tokens"])

# A person reports what they stumbled on; a scanner sends batches. Per user, every process.
REPORTS_PER_WINDOW = 30
WINDOW_SECONDS = 3600
_NO_STORE = {"Cache-Control": "no-store"}
_SCANNER_ITEM_FIELDS = ("token", "type", "url", "source")

_SCANNER_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "maxItems": MAX_ITEMS,
                    "items": {
                        "type": "object",
                        "required": ["token"],
                        "properties": {name: {"type": "string"} for name in _SCANNER_ITEM_FIELDS},
                    },
                }
            }
        },
    },
    "parameters": [
        {
            "name": name,
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": description,
        }
        for name, description in (
            ("Github-Public-Key-Identifier", "The id of the key that signed the body."),
            ("Github-Public-Key-Signature", "Base64 DER ECDSA P-256 / SHA-256 signature."),
        )
    ],
}


def _scanner_items(raw: bytes) -> list[ReportedLeak]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid_request(
            [{"field": "body", "message": "The body is not valid JSON."}]
        ) from None
    if not isinstance(data, list):
        raise invalid_request([{"field": "body", "message": "The body must be a JSON array."}])
    if len(data) > MAX_ITEMS:
        raise invalid_request(
            [{"field": "body", "message": f"At most {MAX_ITEMS} items per report."}]
        )
    items = []
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise invalid_request([{"field": str(index), "message": "Must be a JSON object."}])
        values: dict[str, str] = {}
        for name in _SCANNER_ITEM_FIELDS:
            value = entry.get(name, "")
            if not isinstance(value, str) or (name == "token" and not value):
                raise invalid_request(
                    [{"field": f"{index}.{name}", "message": "Must be a non-empty string."}]
                    if name == "token"
                    else [{"field": f"{index}.{name}", "message": "Must be a string."}]
                )
            values[name] = value
        items.append(ReportedLeak(**values))
    return items


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url)


def _scanner_answer(verdicts: list[LeakVerdict]) -> JSONResponse:
    return JSONResponse(
        [
            {"token_hash": v.token_hash, "token_type": v.token_type, "label": v.label}
            for v in verdicts
        ],
        headers=_NO_STORE,
    )


@router.post(
    "/api/0/secret-scanning/github/",
    response_model=list[LeakVerdictOut],
    responses=errors(400, 401, 404),
    openapi_extra=_SCANNER_BODY,
    dependencies=[public()],
)
async def github_secret_scanning(request: Request) -> JSONResponse:
    """GitHub's secret-scanning partner program: revoke what it found, answer each item's label."""
    keys: ScannerKeys | None = request.app.state.scanner_keys
    if keys is None:
        raise ApiError.not_found()
    raw = await request.body()
    key_id = request.headers.get("github-public-key-identifier", "")
    signature = request.headers.get("github-public-key-signature", "")
    refused = await asyncio.to_thread(keys.verify, key_id, signature, raw)
    if refused is not None:
        # The body may hold live tokens: never logged.
        log.warning(
            "refused a secret-scanning report from %s: %s (key id %s)",
            client_ip(request),
            refused,
            ascii(key_id[:80]),
        )
        raise ApiError(
            401, "invalid-signature", "The report's signature or key id does not verify."
        )
    items = _scanner_items(raw)
    reporter = LeakReporter("system", None, "GitHub secret scanning", client_ip(request))
    async with _store(request).session() as db:
        verdicts = await report_leaks(db, items, reporter, _base_url(request))
    found = sum(v.label == "true_positive" for v in verdicts)
    log.info("secret-scanning report: %d items, %d true positives", len(verdicts), found)
    return _scanner_answer(verdicts)


async def _reserve(store: Store, user_id: int) -> None:
    """Count the report before looking at it, so that racing requests cannot exceed the limit."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    async with store.session() as db:
        count = await reserve_report(db, user_id, window)
        await db.commit()
    if count > REPORTS_PER_WINDOW:
        wait = max(1, int((window + 1) * WINDOW_SECONDS - now))
        raise ApiError(
            429,
            "rate-limited",
            f"Too many leak reports; try again in {wait} seconds.",
            {"retry_after": wait},
            headers={"Retry-After": str(wait)},
        )


@router.post(
    "/api/0/leaked-tokens/",
    response_model=UserLeakVerdictOut,
    responses=errors(400, 401, 403, 429),
    openapi_extra=inline_body_schema(LeakedTokenReport),
)
async def report_leaked_token(request: Request, principal: BrowserUser) -> JSONResponse:
    """Report a string found in public. Whoever's token it is, it is revoked and they are told;
    the answer says only whether it was a Tokenward token."""
    body = await parse_body(request, LeakedTokenReport)
    store = _store(request)
    await _reserve(store, principal.user_id)
    user = principal.user
    assert user is not None
    reporter = LeakReporter(
        ActorType.USER.value, str(user.id), user.display_name, client_ip(request)
    )
    item = ReportedLeak(body.token, "", body.url or "", "a Tokenward user")
    async with store.session() as db:
        [verdict] = await report_leaks(db, [item], reporter, _base_url(request))
    answer: dict[str, Any] = {"token_hash": verdict.token_hash, "label": verdict.label}
    return JSONResponse(answer, headers=_NO_STORE)
