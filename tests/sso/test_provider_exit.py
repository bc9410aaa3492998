"""A process that started the run's shared identity provider still exits on its own: a provider
thread that Python waits for at shutdown once kept a finished test run from ever ending."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_STARTS_AND_LEAVES = """
from tests.sso.rows import shared_provider
import httpx
issuer = shared_provider().issuer
assert httpx.get(issuer + "/.well-known/openid-configuration").status_code == 200
print("started", flush=True)
"""


@pytest.mark.slow  # a fresh interpreter that imports the test support and the provider
def test_a_process_that_started_the_shared_provider_exits_without_closing_it() -> None:
    finished = subprocess.run(
        [sys.executable, "-c", _STARTS_AND_LEAVES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "started"
