"""Organization-owned data is reached only through the gate, whatever a route is called.

A route that names an organization its own way (here a ``user_level`` route under
``/users/me/organizations/{slug}/`` exporting member emails) passes every check that looks at
paths and parameter names. What stops it is structural: the readers of an organization's data take
an ``AdmittedOrganization``, which only the gate makes; mypy refuses the route, and at run time it
gets an error instead of the data.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mypy import api as mypy_api

from tests.support import LiveServer, World, run_async
from tests.support import _migrate as migrate
from tokenward.actions.members import members_of
from tokenward.actions.organization_rules import (
    members_affected,
    members_to_notify,
    members_without_two_factor,
)
from tokenward.actions.organization_tokens import organization_tokens_of
from tokenward.actions.personal_token_access import revoked_token_ids
from tokenward.actions.projects import projects_of
from tokenward.auth.admit import _admit_organization
from tokenward.auth.organization_context import OrganizationContext
from tokenward.auth.principal import Principal
from tokenward.config import Settings
from tokenward.policy import ALL_SCOPES, Credential, CredentialKind, OrganizationPolicy, Role
from tokenward.store.admission import AdmittedOrganization, claim_issuer
from tokenward.store.audit import select_entries
from tokenward.store.tables import Organization

ROOT = Path(__file__).resolve().parents[2]

# The route of the mutation review, written as a developer who forgot the gate would write it.
FORGETFUL_ROUTE = """
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.members import members_of
from tokenward.auth.access import user_level
from tokenward.auth.database import database
from tokenward.auth.principal import Principal
from tokenward.store.tables import Organization

router = APIRouter()


async def _organization(db: AsyncSession, slug: str) -> Organization:
    organization = await db.scalar(select(Organization).where(Organization.slug == slug))
    assert organization is not None
    return organization


@router.get("/api/0/users/me/organizations/{slug}/members-export/")
async def members_export(
    slug: str, principal: Principal = user_level(), db: AsyncSession = Depends(database)
) -> list[str]:
    organization = await _organization(db, slug)
    rows = (await db.execute(members_of(organization))).all()
    return [user.email for _, user in rows]


@router.get("/api/0/users/me/organizations/{slug}/members-export-by-id/")
async def members_export_by_id(
    slug: str, principal: Principal = user_level(), db: AsyncSession = Depends(database)
) -> list[str]:
    organization = await _organization(db, slug)
    rows = (await db.execute(members_of(organization.id))).all()
    return [user.email for _, user in rows]
"""


def _forgetful_module(directory: Path) -> Path:
    path = directory / "members_export_route.py"
    path.write_text(FORGETFUL_ROUTE.lstrip("\n"))
    return path


@pytest.fixture(scope="module")
def forgetful_server() -> Iterator[LiveServer]:
    """A server whose application also has the forgetful route."""
    with tempfile.TemporaryDirectory(prefix="tokenward-admission-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'test.db'}"
        run_async(migrate(url))
        spec = importlib.util.spec_from_file_location(
            "members_export_route", _forgetful_module(Path(directory))
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        server = LiveServer(Settings(database_url=url, secret_key="admission-test-secret"))
        server.app.include_router(module.router)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def test_a_route_that_skips_the_gate_cannot_read_an_organizations_members(
    forgetful_server: LiveServer,
) -> None:
    world = World(forgetful_server)
    try:
        owner = world.session()
        slug = world.organization(owner)
        member = world.member(owner, slug)
        token = world.personal_token(world.session())
        gated = owner.get(f"/api/0/organizations/{slug}/members/")
        assert member.account.email in gated.text  # the data is there, behind the gate
        for path in ("members-export", "members-export-by-id"):
            # A new connection each: the server closes one after an unexpected error.
            response = world.bearer(token).get(f"/api/0/users/me/organizations/{slug}/{path}/")
            assert response.status_code == 500, response.text
            assert response.json()["detail"]["code"] == "internal-error"
            assert member.account.email not in response.text
            assert "@" not in response.text
    finally:
        world.close()


@pytest.mark.slow  # runs mypy
def test_mypy_refuses_a_route_that_reads_organization_data_without_the_gate(
    tmp_path: Path,
) -> None:
    path = _forgetful_module(tmp_path)
    # Checked with the sources as ``make lint`` checks them, so its cache serves this run too.
    stdout, stderr, status = mypy_api.run(
        [
            str(ROOT / "src"),
            str(path),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
        ]
    )
    assert status == 1, stdout + stderr
    errors = re.findall(r"members_export_route\.py:(\d+): error: (.*)", stdout)
    assert sorted(errors) == [
        (_line_of("members_of(organization)"), f"{_refusal('Organization')}  [arg-type]"),
        (_line_of("members_of(organization.id)"), f"{_refusal('int')}  [arg-type]"),
    ], stdout


def _line_of(text: str) -> str:
    lines = FORGETFUL_ROUTE.lstrip("\n").splitlines()
    return str(next(number for number, line in enumerate(lines, 1) if text in line))


def _refusal(given: str) -> str:
    return (
        f'Argument 1 to "members_of" has incompatible type "{given}"; '
        'expected "AdmittedOrganization"'
    )


def _row() -> Organization:
    return Organization(id=1, slug="acme", name="Acme", allow_personal_tokens=True)


_POLICY = OrganizationPolicy(organization_id="1", slug="acme", allow_personal_tokens=True)
_TIGHTER = replace(_POLICY, allow_personal_tokens=False, require_2fa=True)

# The readers refuse before any query, so they never reach a database.
NO_DB: Any = None

# Every reader of organization-owned data, called the way a route without the gate could.
READERS: dict[str, Callable[[Any], Any]] = {
    "members": members_of,
    "projects": projects_of,
    "organization tokens": organization_tokens_of,
    "audit log": select_entries,
    "revocations here": lambda org: asyncio.run(revoked_token_ids(NO_DB, org)),
    "usage": lambda org: asyncio.run(members_affected(NO_DB, org, _TIGHTER)),
    "members without 2FA": lambda org: asyncio.run(members_without_two_factor(NO_DB, org)),
    "members to notify": lambda org: asyncio.run(members_to_notify(NO_DB, org, _POLICY, _TIGHTER)),
}


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
@pytest.mark.parametrize("given", [_row, lambda: 1], ids=["row", "id"])
def test_readers_of_organization_data_refuse_what_the_gate_did_not_admit(
    reader: Callable[[Any], Any], given: Callable[[], Any]
) -> None:
    with pytest.raises(TypeError, match="only through the gate"):
        reader(given())


def test_only_the_gate_can_admit_an_organization() -> None:
    with pytest.raises(RuntimeError):
        claim_issuer()
    with pytest.raises(TypeError):
        AdmittedOrganization(1, "acme", seal=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AdmittedOrganization(1, "acme")  # type: ignore[call-arg]
    principal = Principal(Credential(CredentialKind.SESSION, ALL_SCOPES))
    with pytest.raises(TypeError):
        OrganizationContext(NO_DB, principal, _row(), Role.OWNER, ALL_SCOPES, None, NO_DB)
    admitted = _admit_organization(1, "acme")
    with pytest.raises(TypeError):  # an admission of one organization does not open another
        other = Organization(id=2, slug="other", name="Other", allow_personal_tokens=True)
        OrganizationContext(NO_DB, principal, other, Role.OWNER, ALL_SCOPES, None, admitted)
    with pytest.raises(AttributeError):
        admitted.id = 2
    assert (admitted.id, admitted.slug) == (1, "acme")


def test_nothing_but_the_gate_uses_the_issuer() -> None:
    users = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "src").rglob("*.py")
        if re.search(r"\bclaim_issuer\b|\b_admit_organization\b|\b_SEAL\b", path.read_text())
    )
    assert users == ["src/tokenward/auth/admit.py", "src/tokenward/store/admission.py"]
