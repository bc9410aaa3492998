"""A route's access and the type it receives are one declaration (an ``Annotated`` alias of
``tokenward.auth.access``), and that declaration tells the truth: the type it names is what its
dependency returns, so mypy's view of ``context`` is the object the route really gets."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import params
from fastapi.routing import APIRoute

from tests.support import unstarted_app
from tokenward.auth import access
from tokenward.auth.access import ACCESS_ATTRIBUTE
from tokenward.auth.database import Database
from tokenward.auth.inventory import _flat_routes
from tokenward.auth.organization_context import OrganizationContext, ProjectContext
from tokenward.auth.principal import Principal

ROUTES = [route for route in _flat_routes(unstarted_app()) if isinstance(route, APIRoute)]


def _gate(metadata: tuple[Any, ...]) -> Callable[..., Any] | None:
    for item in metadata:
        if isinstance(item, params.Depends) and hasattr(item.dependency, ACCESS_ATTRIBUTE):
            return item.dependency
    return None


def _declarations() -> Iterator[tuple[str, type, Callable[..., Any]]]:
    """(where, declared type, gate) for every access a route of the app takes as a parameter."""
    for route in ROUTES:
        hints = typing.get_type_hints(route.endpoint, include_extras=True)
        for name, hint in hints.items():
            if typing.get_origin(hint) is typing.Annotated:
                declared, *metadata = typing.get_args(hint)
                gate = _gate(tuple(metadata))
                if gate is not None:
                    yield f"{route.path} {name}", declared, gate


def _returns(gate: Callable[..., Any]) -> Any:
    return typing.get_type_hints(gate)["return"]


def test_every_alias_names_what_its_dependency_returns() -> None:
    aliases = {
        name: typing.get_args(value)
        for name in access.__all__
        if typing.get_origin(value := getattr(access, name)) is typing.Annotated
    }
    assert len(aliases) >= 20
    for name, (declared, *metadata) in aliases.items():
        gate = _gate(tuple(metadata))
        assert gate is not None, name
        assert declared in (OrganizationContext, ProjectContext, Principal), name
        assert _returns(gate) is declared, name


def test_routes_declare_access_with_a_type_that_matches_it() -> None:
    found = list(_declarations())
    assert len(found) >= 40
    wrong = [where for where, declared, gate in found if _returns(gate) is not declared]
    assert wrong == []


def test_no_route_of_the_app_takes_its_access_as_an_unchecked_default() -> None:
    defaults = [
        f"{route.path} {parameter.name}"
        for route in ROUTES
        for parameter in inspect.signature(route.endpoint).parameters.values()
        if isinstance(parameter.default, params.Depends)
        and hasattr(parameter.default.dependency, ACCESS_ATTRIBUTE)
    ]
    assert defaults == []


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _dependency_of(alias: Any) -> Callable[..., Any]:
    (depends,) = [item for item in typing.get_args(alias)[1:] if isinstance(item, params.Depends)]
    assert depends.dependency is not None
    return depends.dependency


def _gated(calls: list[Callable[..., Any]]) -> bool:
    return any(getattr(call, ACCESS_ATTRIBUTE, None) == "organization" for call in calls)


def test_an_organization_route_reaches_the_store_only_through_its_context() -> None:
    """The gate brings the request's store (``context.db``): a ``db: Database`` beside it would
    be a second session, committing apart from the gate's."""
    gated = [(route, calls) for route in ROUTES if _gated(calls := list(_calls(route.dependant)))]
    assert len(gated) >= 40
    database = _dependency_of(Database)
    both = [
        f"{route.path} {sorted(route.methods or ())}" for route, calls in gated if database in calls
    ]
    assert both == []
