"""A refused form post draws the form again with the refusal, or leaves it to the error page."""

from __future__ import annotations

import pytest

from tokenward.errors import ApiError
from tokenward.web.forms import shown_on_form


@pytest.mark.parametrize("status", [400, 403, 409])
def test_refusals_about_the_form_are_shown_on_it(status: int) -> None:
    error = ApiError(status, "conflict", "No.")
    assert shown_on_form(error) is error


@pytest.mark.parametrize("status", [404, 429, 503])
def test_anything_else_goes_to_the_error_page(status: int) -> None:
    error = ApiError(status, "unavailable", "Later.")
    with pytest.raises(ApiError) as raised:
        shown_on_form(error)
    assert raised.value is error


def test_a_named_code_is_shown_too() -> None:
    error = ApiError(429, "rate-limited", "Wait.")
    assert shown_on_form(error, "rate-limited") is error
