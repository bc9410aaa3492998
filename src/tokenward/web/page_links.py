"""Messages that name a page get a real link: "(/settings/account/security/)" becomes
"Set up two-factor authentication", linked. The API's messages stay plain text."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["linked"]

_PATH = re.compile(r"( at | ?\()?(/settings/[a-z0-9-]+/(?:[a-z0-9-]+/)?)\)?")
# What a link to each page does, and what the page is called after "at".
_ACTIONS = {"/settings/account/security/": "Set up two-factor authentication"}
_PAGES = {"/settings/account/security/": "your account security page"}


def _page(path: str) -> str:
    if path in _PAGES:
        return _PAGES[path]
    return "the organization tokens page" if path.endswith("/tokens/") else path


def linked(message: str) -> Markup:
    """``message`` escaped, with each page path in it turned into a link."""
    escaped = str(escape(message))

    def link(match: re.Match[str]) -> str:
        lead, path = match.group(1) or "", match.group(2)
        if lead == " at ":
            return f' on <a href="{path}">{_page(path)}</a>'
        words = _ACTIONS.get(path, _page(path))
        return f'{": " if "(" in lead else lead}<a href="{path}">{words}</a>'

    return Markup(_PATH.sub(link, escaped))  # noqa: S704
