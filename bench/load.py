"""Load on loopback: ``wrk`` when installed (it is fast enough not to be the bottleneck), else
a small closed-loop asyncio + httpx generator."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time

import httpx

__all__ = ["WRK", "rate", "throughput"]

WRK = shutil.which("wrk")


def rate(url: str, headers: dict[str, str], *, seconds: float, concurrency: int = 16) -> float:
    """Requests per second sustained for ``seconds`` (all of them must answer 200)."""
    if WRK is None:
        return throughput(url, headers, seconds=seconds, concurrency=concurrency)[1]
    arguments = [WRK, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        arguments += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*arguments, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw failures:\n{output}")
    found = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(found.group(1))


async def _load(
    url: str, headers: dict[str, str], *, seconds: float, requests: int, concurrency: int
) -> tuple[int, float]:
    done = 0
    failures = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal done, failures
            while done < requests and time.perf_counter() < deadline:
                done += 1
                response = await client.get(url)
                if response.status_code != 200:
                    failures += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{failures} of {done} requests failed during the load")
    return done, elapsed


def throughput(
    url: str,
    headers: dict[str, str] | None = None,
    *,
    seconds: float = 5.0,
    requests: int = 10**9,
    concurrency: int = 16,
) -> tuple[int, float]:
    """Send GETs until ``seconds`` pass or ``requests`` are sent; returns (count, requests/s)."""
    count, elapsed = asyncio.run(
        _load(url, headers or {}, seconds=seconds, requests=requests, concurrency=concurrency)
    )
    return count, count / elapsed
