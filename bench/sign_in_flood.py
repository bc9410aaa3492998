"""Figure: token requests while failed sign-ins flood the server, against the same requests idle.

Password hashing is slow on purpose; it must not slow anyone else. The p99 latency of a token
request is measured idle, then again while many clients keep sending wrong passwords (each from
its own address and for its own email, so the throttle never spares the hashing)."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.environment import serve
from bench.figures import GATED, Figure
from bench.seed import owner_with_token

__all__ = ["sign_in_flood"]

_FLOODERS = 16


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _latencies(url: str, headers: dict[str, str], requests: int) -> list[float]:
    seen = []
    with httpx.Client(headers=headers, timeout=60) as client:
        client.get(url).raise_for_status()  # the connection and the caches are warm
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get(url)
            seen.append(time.perf_counter() - start)
            response.raise_for_status()
    return seen


def _flood(base_url: str, stop: threading.Event, numbers: itertools.count[int]) -> int:
    sent = 0
    with httpx.Client(base_url=base_url, timeout=60) as client:
        while not stop.is_set():
            n = next(numbers)
            response = client.post(
                "/api/0/auth/login/",
                json={"email": f"nobody-{n}@bench.example", "password": "wrong password"},
                headers={"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"},
            )
            if response.status_code != 401:
                raise RuntimeError(f"a failed sign-in answered {response.status_code}")
            sent += 1
    return sent


def sign_in_flood(database_url: str, secret: str, *, requests: int) -> Figure:
    with serve(GATED, database_url, secret) as server:
        owner = owner_with_token(database_url, server.url)
        url = f"{server.url}/api/0/organizations/{owner.slug}/"
        idle = _latencies(url, owner.bearer, requests)
        stop = threading.Event()
        numbers = itertools.count(1)
        with ThreadPoolExecutor(max_workers=_FLOODERS) as pool:
            flooders = [pool.submit(_flood, server.url, stop, numbers) for _ in range(_FLOODERS)]
            time.sleep(0.5)  # the flood is under way before measuring
            try:
                flooded = _latencies(url, owner.bearer, requests)
            finally:
                stop.set()
            failed_sign_ins = sum(flooder.result() for flooder in flooders)
    ratio = _p99(flooded) / _p99(idle)
    return Figure(
        "sign-in-flood",
        f"{ratio:.2f}x idle p99 for token requests during a flood of failed sign-ins (goal <= 2x)",
        [
            ("token requests p99, idle", f"{_p99(idle) * 1000:.2f} ms"),
            ("token requests p99, during the flood", f"{_p99(flooded) * 1000:.2f} ms"),
            ("ratio", f"{ratio:.3f}"),
            ("failed sign-ins during the measurement", f"{failed_sign_ins}"),
            ("clients sending wrong passwords", f"{_FLOODERS}"),
        ],
    )
