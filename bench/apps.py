"""The applications the benchmark serves: Tokenward as shipped, and the same endpoint with
authentication switched off (no middleware, no gate) as the baseline for the gate's cost."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

# The baseline skips the gate on purpose, so it admits the organization itself.
from tokenward.auth.access import ACCESS_ATTRIBUTE
from tokenward.auth.admit import _admit_organization
from tokenward.auth.database import RequestDatabase
from tokenward.auth.inventory import _flat_routes
from tokenward.auth.middleware import AuthenticationMiddleware
from tokenward.auth.organization_context import OrganizationContext
from tokenward.cli import worker_app
from tokenward.policy import ALL_SCOPES, Credential, CredentialKind, Role
from tokenward.store.admission_queries import find_organization_with_role
from tokenward.store.organization_record import OrganizationRecord

__all__ = ["BENCH_PATH", "auth_off_app", "gated_app"]

BENCH_PATH = "/api/0/organizations/{org}/"


def gated_app() -> FastAPI:
    app: FastAPI = worker_app()
    return app


def _organization_gate(app: FastAPI) -> Any:
    for route in _flat_routes(app):  # included routers may be nested
        if (
            isinstance(route, APIRoute)
            and route.path == BENCH_PATH
            and "GET" in (route.methods or ())
        ):
            for dependency in route.dependant.dependencies:
                if getattr(dependency.call, ACCESS_ATTRIBUTE, None) == "organization":
                    return dependency.call
    raise LookupError(f"no gated GET {BENCH_PATH}")


def _authenticates(middleware: object) -> bool:
    return middleware is AuthenticationMiddleware


def auth_off_app() -> FastAPI:
    """Same app and endpoint; the gate answers with a context remembered from the first call."""
    from tokenward.auth.principal import Principal

    app = gated_app()
    app.user_middleware = [m for m in app.user_middleware if not _authenticates(m.cls)]
    remembered: dict[str, OrganizationContext] = {}
    principal = Principal(Credential(CredentialKind.SESSION, ALL_SCOPES))

    async def no_gate(org: str) -> OrganizationContext:
        context = remembered.get(org)
        if context is None:
            async with app.state.store.session() as db:
                found = await find_organization_with_role(db, org, None)
            if found is None:
                raise LookupError(org)
            organization = OrganizationRecord.of(found[0])
            admitted = _admit_organization(organization.id, organization.slug)
            # No session of its own: the endpoint reads through pooled connections.
            database = RequestDatabase(app.state.store)
            context = OrganizationContext(
                database, principal, organization, Role.OWNER, ALL_SCOPES, None, admitted
            )
            remembered[org] = context
        return context

    app.dependency_overrides[_organization_gate(app)] = no_gate
    return app
