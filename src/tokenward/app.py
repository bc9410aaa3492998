"""``create_app(settings)``: wires the store, the authentication middleware and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tokenward import __version__
from tokenward.api import API_ROUTERS
from tokenward.api.docs import document_common_answers
from tokenward.api.error_handlers import install_error_handlers
from tokenward.api.metrics import router as metrics_router
from tokenward.auth.authenticator import Authenticator
from tokenward.auth.cached_organizations import CachedOrganizations
from tokenward.auth.caches import GateCaches
from tokenward.auth.coherence import COHERENCE_KEY, Coherence
from tokenward.auth.decision_recorder import DecisionRecorder
from tokenward.auth.inventory import undeclared_routes
from tokenward.auth.login_throttle import LoginThrottle
from tokenward.auth.middleware import AuthenticationMiddleware
from tokenward.auth.sessions import SessionCookies
from tokenward.auth.usage import UsageRecorder
from tokenward.config import Settings
from tokenward.gateway.endpoint import install_gateway
from tokenward.http.access_log import redact_access_log
from tokenward.http.before_response import BeforeResponseMiddleware
from tokenward.http.body_limit import BodyLimitMiddleware
from tokenward.http.log_redaction import install_log_redaction
from tokenward.http.report_only import ReportOnlyMiddleware
from tokenward.http.route_table import include_flat, install_route_index
from tokenward.http.security_headers import SecurityHeadersMiddleware
from tokenward.metrics import Metrics
from tokenward.notices.sender import OutboxSender, SmtpSettings
from tokenward.request_bodies import REQUEST_MODELS, SSO_REQUEST_MODELS
from tokenward.scanner_keys import ScannerKeys
from tokenward.store.engine import Store
from tokenward.store.health import StoreHealth
from tokenward.web import install_web

__all__ = ["API_ROUTERS", "create_app"]


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, plus the request bodies we validate ourselves, minus FastAPI's 422."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title="Tokenward",
        version=__version__,
        routes=app.routes,
        description="Organizations decide which API tokens may act on them.",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (*REQUEST_MODELS, *SSO_REQUEST_MODELS):
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    document_common_answers(schema)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings) -> FastAPI:
    metrics = Metrics()
    caches = GateCaches(
        max_entries=settings.cache_max_entries,
        ttl_seconds=settings.cache_ttl_seconds,
        metrics=metrics,
    )
    coherence = Coherence(caches, metrics, settings.database_url)
    store = Store(settings.database_url, session_info={COHERENCE_KEY: coherence})
    coherence.watch(store)
    health = StoreHealth(store)
    health.watch()
    cookies = SessionCookies(settings.secret_key)
    usage = UsageRecorder(store, metrics, settings.usage_flush_seconds)
    smtp = (
        SmtpSettings.from_url(settings.smtp_url, settings.email_from) if settings.smtp_url else None
    )
    outbox = OutboxSender(
        store, smtp, settings.outbox_interval_seconds, secret_key=settings.secret_key
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await coherence.start()
        await usage.start()
        outbox.start()
        yield
        await outbox.stop()
        if gateway is not None:
            await gateway.close()
        await coherence.stop()
        await usage.stop()  # the last batch is written before the store closes
        await store.close()
        metrics.close()

    app = FastAPI(
        title="Tokenward",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.health = health
    app.state.cookies = cookies
    app.state.login_throttle = LoginThrottle(store, settings.throttle_limits)
    app.state.metrics = metrics
    app.state.caches = caches
    app.state.coherence = coherence
    app.state.usage = usage
    cached_organizations = CachedOrganizations(caches, store)
    app.state.cached_organizations = cached_organizations
    app.state.decision_recorder = DecisionRecorder(metrics, usage)
    app.state.outbox = outbox
    app.state.scanner_keys = (
        ScannerKeys(Path(settings.secret_scanning_keys)) if settings.secret_scanning_keys else None
    )
    install_error_handlers(app)
    for router in (*API_ROUTERS, metrics_router):
        include_flat(app, router)
    gateway = install_gateway(app, settings.gateway_routes, store)
    install_web(app)  # pages, static files, HTML error pages for non-API paths
    install_route_index(app)
    # Added last runs first: headers and the body limits wrap everything (the body is read in
    # full before anything touches the store), authentication after.
    app.add_middleware(BeforeResponseMiddleware)
    app.add_middleware(
        AuthenticationMiddleware,
        authenticator=Authenticator(store, cookies, caches, usage, cached_organizations),
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout_seconds=settings.body_timeout_seconds,
    )
    app.add_middleware(ReportOnlyMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    install_log_redaction()  # SSO callback codes never reach the access log

    redact_access_log()  # invitation links carry their key in the path
    missing = undeclared_routes(app)
    if missing:
        raise RuntimeError(f"routes without a declared access check: {missing}")
    return app
