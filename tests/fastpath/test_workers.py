"""``tokenward serve --workers N``: several processes on PostgreSQL that follow each other's
changes; refused on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fastpath.conftest import HANG
from tests.leakwatch import WATCH
from tests.support import World, error_code, free_port
from tokenward.cli import main

TOKENWARD = str(Path(sys.executable).with_name("tokenward"))
WORKERS = 2


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
    log = tmp_path / "serve.log"  # a file, not a pipe: a full pipe would stall the server
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                TOKENWARD,
                "serve",
                "--workers",
                str(WORKERS),
                "--port",
                str(port),
                "--log-level",
                "info",
            ],
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(url, process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        WATCH.log_file(log, "tokenward serve --workers 2 log")


def _wait_until_listening(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 3 * HANG  # two processes starting on a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            # Both workers' listeners must be up: metrics answer from whichever worker is hit.
            samples = [httpx.get(f"{url}/metrics", timeout=10).text for _ in range(8)]
            if all("tokenward_listener_connected 1.0" in text for text in samples):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("tokenward serve --workers 2 did not come up")


def _decisions_by_worker(url: str) -> dict[str, dict[str, float]]:
    """One /metrics answer: every worker's own decision counts by code, keyed by its pid."""
    with httpx.Client(timeout=10) as fresh:
        text = fresh.get(f"{url}/metrics").text
    by_worker: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "tokenward_worker_decisions":
                by_worker.setdefault(sample.labels["pid"], {})[sample.labels["code"]] = sample.value
    return by_worker


def _until_every_worker(url: str, code: str, send: Callable[[], None]) -> None:
    """Send requests on new connections until each worker has answered one with ``code``."""
    deadline = time.monotonic() + HANG
    while True:
        send()
        answered = {
            pid: codes.get(code, 0) >= 1 for pid, codes in _decisions_by_worker(url).items()
        }
        if len(answered) == WORKERS and all(answered.values()):
            return
        assert time.monotonic() < deadline, f"workers that answered {code}: {answered}"


def test_worker_processes_follow_a_flip_made_elsewhere(world_a: World, workers: str) -> None:
    owner = world_a.session("Owner")
    slug = world_a.organization(owner)
    token = world_a.personal_token(owner, ["org:read"])
    path = f"{workers}/api/0/organizations/{slug}/"
    headers = {"Authorization": f"Bearer {token}"}
    outcomes: list[str | None] = []

    def send() -> None:
        with httpx.Client(headers=headers, timeout=10) as fresh:
            outcomes.append(error_code(fresh.get(path)) or "ok")

    # Every worker has allowed the token (and cached that) before the flip.
    _until_every_worker(workers, "ok", send)
    assert set(outcomes) == {"ok"}, outcomes
    flipped = owner.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
    )
    assert flipped.status_code == 200
    outcomes.clear()
    # Only the notification can explain a worker's new answer: its cache TTL is an hour.
    _until_every_worker(workers, "personal-token-denied", send)
    assert outcomes[-1] == "personal-token-denied"
    for _ in range(10):
        send()
    assert outcomes[-10:] == ["personal-token-denied"] * 10


def test_several_workers_are_refused_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKENWARD_DATABASE_URL", f"sqlite:///{tmp_path / 'one.db'}")
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--workers", str(WORKERS), "--no-migrate"])
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
