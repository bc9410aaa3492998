"""The refusal table: every code is described for programs and for people, docs/api.md lists
exactly its codes and statuses, and no code is answered that the table does not know."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tokenward.api.docs import errors
from tokenward.refusals import STANDINGS, Refusal
from tokenward.web.layout import STANDING_WORDS

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# Calls whose string arguments include an error code.
CODED_CALLS = {"ApiError", "Decision", "error_body", "_json"}


@pytest.mark.parametrize("refusal", list(Refusal), ids=str)
def test_every_refusal_has_a_status_message_description_and_words(refusal: Refusal) -> None:
    assert 400 <= refusal.status <= 599
    assert refusal.message.strip()
    assert refusal.description.strip()
    assert refusal.words.strip()
    assert CODE.fullmatch(refusal)


def test_openapi_descriptions_name_every_code_of_their_status() -> None:
    for refusal in Refusal:
        description = errors(refusal.status)[refusal.status]["description"]
        assert f"`{refusal}`: {refusal.description}" in description


def test_standings_read_as_their_refusals_words() -> None:
    for refusal, standing in STANDINGS.items():
        assert STANDING_WORDS[standing] == refusal.words


def _documented_errors() -> dict[str, int]:
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d{3}) \| `([^`]+)` \|", section, re.MULTILINE)
    assert len(rows) == len({code for _, code in rows}), "a code is listed twice"
    return {code: int(status) for status, code in rows}


def test_docs_list_exactly_the_refusal_codes_with_their_statuses() -> None:
    assert _documented_errors() == {str(refusal): refusal.status for refusal in Refusal}


def _codes_answered_in_source() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "src" / "tokenward").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in CODED_CALLS:
                continue
            codes |= {
                argument.value
                for argument in node.args
                if isinstance(argument, ast.Constant)
                and isinstance(argument.value, str)
                and CODE.fullmatch(argument.value)
            }
    return codes


def test_every_code_the_source_answers_with_is_in_the_table() -> None:
    answered = _codes_answered_in_source()
    assert {"not-found", "invalid-token", "rate-limited"} <= answered  # the scan sees them
    assert answered - set(Refusal) == set()
