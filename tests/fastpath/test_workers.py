"""``tokenward serve --workers N``: several processes on PostgreSQL that follow each other's
changes; refused on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fastpath.conftest import PROPAGATION_BOUND
from tests.support import World, error_code, free_port
from tokenward.cli import main

TOKENWARD = str(Path(sys.executable).with_name("tokenward"))


@pytest.fixture
def workers(postgres_url: str, secret: str, tmp_path: Path) -> Iterator[str]:
    """A real ``tokenward serve --workers 2`` on the test database; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "TOKENWARD_DATABASE_URL": postgres_url,
        "TOKENWARD_SECRET_KEY": secret,
        "TOKENWARD_CACHE_TTL_SECONDS": "3600",  # only notifications can explain a change seen
    }
    process = subprocess.Popen(
        [TOKENWARD, "serve", "--workers", "2", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_listening(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120  # two interpreters starting on a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
        try:
            # Both workers' listeners must be up: metrics answer from whichever worker is hit.
            samples = [httpx.get(f"{url}/metrics", timeout=2).text for _ in range(8)]
            if all("tokenward_listener_connected 1.0" in text for text in samples):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("tokenward serve --workers 2 did not come up")


def test_worker_processes_follow_a_flip_made_elsewhere_within_a_second(
    world_a: World,
    workers: str,
) -> None:
    owner = world_a.session("Owner")
    slug = world_a.organization(owner)
    token = world_a.personal_token(owner, ["org:read"])
    path = f"{workers}/api/0/organizations/{slug}/"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=10) as client:
        for _ in range(10):  # new connections land on both workers and warm their caches
            with httpx.Client(headers=headers, timeout=10) as fresh:
                assert fresh.get(path).status_code == 200
        flipped = owner.put(
            f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
        )
        assert flipped.status_code == 200
        start = time.monotonic()
        while client.get(path).status_code == 200:
            assert time.monotonic() - start < PROPAGATION_BOUND
        for _ in range(10):
            with httpx.Client(headers=headers, timeout=10) as fresh:
                assert error_code(fresh.get(path)) == "personal-token-denied"


def test_several_workers_are_refused_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKENWARD_DATABASE_URL", f"sqlite:///{tmp_path / 'one.db'}")
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--workers", "2", "--no-migrate"])
    assert "needs PostgreSQL" in str(refused.value.code)
    assert not (tmp_path / "one.db").exists()  # refused before touching anything


def _allowed_decisions(url: str) -> float:
    """``tokenward_decisions_total{outcome="allowed"}`` from one scrape, on a new connection."""
    with httpx.Client(timeout=10) as fresh:
        text = fresh.get(f"{url}/metrics").text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "tokenward_decisions_total" and sample.labels["outcome"] == "allowed":
                total += sample.value
    return total


def test_one_metrics_scrape_counts_every_worker(world_a: World, workers: str) -> None:
    owner = world_a.session("Owner")
    slug = world_a.organization(owner)
    headers = {"Authorization": f"Bearer {world_a.personal_token(owner, ['org:read'])}"}
    requests = 30
    for _ in range(requests):  # each on a new connection, so both workers answer some
        with httpx.Client(headers=headers, timeout=10) as fresh:
            assert fresh.get(f"{workers}/api/0/organizations/{slug}/").status_code == 200
    # Whichever worker answers the scrape, it reports all of them.
    assert [_allowed_decisions(workers) for _ in range(8)] == [requests] * 8
