"""What the API and the pages both need to send an invitation from a request: where its link
points and the key it derives from, and a nudge for the outbox to send it now."""

from __future__ import annotations

from fastapi import Request

from tokenward.actions.invitations import LinkMaker
from tokenward.http.links import link_base

__all__ = ["invitation_links", "wake_outbox"]


def invitation_links(request: Request) -> LinkMaker:
    return LinkMaker(link_base(request), request.app.state.settings.secret_key)


def wake_outbox(request: Request) -> None:
    """Send the invitation now rather than at the next poll."""
    outbox = getattr(request.app.state, "outbox", None)
    if outbox is not None:
        outbox.wake()
