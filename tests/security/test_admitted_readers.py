"""The audit log's event list, an organization's SSO-authorized tokens, its pending invitations
and the members its identity provider manages are read only through an admission, like every
other reader of organization-owned data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tokenward.actions.invitations import pending_invitations_of
from tokenward.actions.scim_users import managed_user_ids
from tokenward.store.audit import events_held
from tokenward.store.sso import tokens_authorized_in
from tokenward.store.tables import Organization

# The readers refuse before any query, so they never reach a database.
NO_DB: Any = None

READERS: dict[str, Callable[[Any], Any]] = {
    "audit events held": lambda org: asyncio.run(events_held(NO_DB, org)),
    "tokens authorized through SSO": lambda org: asyncio.run(tokens_authorized_in(NO_DB, org)),
    "pending invitations": pending_invitations_of,
    "members the identity provider manages": lambda org: asyncio.run(managed_user_ids(NO_DB, org)),
}


def _row() -> Organization:
    return Organization(id=1, slug="acme", name="Acme", allow_personal_tokens=True)


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
@pytest.mark.parametrize("given", [_row, lambda: 1], ids=["row", "id"])
def test_they_refuse_what_the_gate_did_not_admit(
    reader: Callable[[Any], Any], given: Callable[[], Any]
) -> None:
    with pytest.raises(TypeError, match="only through the gate"):
        reader(given())
