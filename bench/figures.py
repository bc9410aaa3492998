"""The four figures of ``make bench``. Each returns rows for the table and one summary line."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import httpx
from fastapi import Request

from bench.environment import serve
from bench.load import WRK, rate, throughput
from bench.seed import owner_with_token, seed_population
from tokenward.auth.admit import admit_named
from tokenward.auth.authenticator import Authenticator
from tokenward.auth.cached_organizations import CachedOrganizations
from tokenward.auth.caches import GateCaches
from tokenward.auth.database import RequestDatabase
from tokenward.auth.decision_recorder import DecisionRecorder
from tokenward.auth.sessions import SessionCookies
from tokenward.auth.usage import UsageRecorder
from tokenward.config import Settings
from tokenward.metrics import Metrics
from tokenward.policy import Requirement, Role
from tokenward.store.engine import Store

__all__ = ["Figure", "cold_path", "gate_cost", "health_cost", "propagation", "usage_writes"]

GATED = "bench.apps:gated_app"
AUTH_OFF = "bench.apps:auth_off_app"


@dataclass
class Figure:
    name: str
    summary: str
    rows: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # As each figure is ready, not only at the end: a long run shows its progress.
        print(f"[bench] {self.name}: {self.summary}", file=sys.stderr, flush=True)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# What ``rate`` measures with: wrk when installed (16 connections either way).
_LOAD_GENERATOR = "wrk -t1 -c16" if WRK else "asyncio + httpx, 16 connections"


def gate_cost(database_url: str, secret: str, *, seconds: float, rounds: int = 2) -> Figure:
    """Figure 1: one organization endpoint with a personal token through the middleware and the
    gate (warm caches), against the same endpoint with authentication switched off."""
    with serve(GATED, database_url, secret) as server:
        owner = owner_with_token(database_url, server.url)
    path = f"/api/0/organizations/{owner.slug}/"
    best = {GATED: 0.0, AUTH_OFF: 0.0}
    for _ in range(rounds):  # alternate, keep each side's best: loopback noise hits both
        for factory in (GATED, AUTH_OFF):
            with serve(factory, database_url, secret) as server:
                rate(server.url + path, owner.bearer, seconds=1)  # warm caches and connections
                best[factory] = max(
                    best[factory], rate(server.url + path, owner.bearer, seconds=seconds)
                )
    ratio = best[GATED] / best[AUTH_OFF]
    return Figure(
        "gate-cost",
        f"{ratio:.2f}x auth-off throughput (goal >= 0.9x)",
        [
            ("gated requests/s (token, middleware + gate)", f"{best[GATED]:.0f}"),
            ("auth-off requests/s (same endpoint)", f"{best[AUTH_OFF]:.0f}"),
            ("ratio", f"{ratio:.3f}"),
            ("load generator", _LOAD_GENERATOR),
        ],
    )


def health_cost(database_url: str, secret: str, *, seconds: float, rounds: int) -> Figure:
    """`/healthz` against the gated organization endpoint on the same server, alternated: a probe
    answers from the last store check (one a second at most), so it must cost no more than a
    request the gate answers from its caches."""
    with serve(GATED, database_url, secret) as server:
        owner = owner_with_token(database_url, server.url)
        gated, health = f"{server.url}/api/0/organizations/{owner.slug}/", f"{server.url}/healthz"
        best = {gated: 0.0, health: 0.0}
        rate(gated, owner.bearer, seconds=1)  # warm caches and connections
        for _ in range(rounds):
            for url, headers in ((health, {}), (gated, owner.bearer)):
                best[url] = max(best[url], rate(url, headers, seconds=seconds))
        owner.session.close()
    ratio = best[health] / best[gated]
    return Figure(
        "health",
        f"/healthz {ratio:.2f}x the gated endpoint's requests/s (goal >= 1x)",
        [
            ("/healthz requests/s", f"{best[health]:.0f}"),
            ("GET /api/0/organizations/{org}/ requests/s (token)", f"{best[gated]:.0f}"),
            ("ratio", f"{ratio:.2f}"),
            ("load generator", _LOAD_GENERATOR),
        ],
    )


def _admission_request(app_state: SimpleNamespace) -> Request:
    """A GET request as admission sees one: the app's state (caches, decision recorder) and the
    client. ``admit_named`` (gateway mode's entry) runs the same gate as a route's GET."""
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    return Request({**scope, "app": SimpleNamespace(state=app_state), "client": ("127.0.0.1", 1)})


@dataclass
class _Timings:
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    cold_statements: int = 0  # store statements run, all lookups together
    warm_statements: int = 0


async def _cold_and_warm(
    database_url: str, secret: str, samples: list[tuple[str, str]]
) -> _Timings:
    """Each sample's token and organization, first with every cache empty, then again at once
    (every cache hit): both through the authenticator and admission as a request goes, and
    interleaved, so that a busy machine weighs on both alike."""
    metrics = Metrics()
    caches = GateCaches(max_entries=len(samples) * 4 + 16, ttl_seconds=3600, metrics=metrics)
    caches.usable = True  # measured in one process, with nothing changing underneath
    store = Store(database_url)
    usage = UsageRecorder(store, metrics, flush_seconds=3600)
    organizations = CachedOrganizations(caches, store)
    authenticator = Authenticator(store, SessionCookies(secret), caches, usage, organizations)
    request = _admission_request(
        SimpleNamespace(
            cached_organizations=organizations,
            decision_recorder=DecisionRecorder(metrics, usage),
        )
    )
    timings = _Timings()

    async def one(token: str, slug: str) -> None:
        authentication = await authenticator.authenticate(
            authorization=f"Bearer {token}",
            session_cookie=None,
            csrf_header=None,
            method="GET",
            organization=slug,  # as the middleware passes the organization an API path names
        )
        principal = authentication.principal
        assert principal is not None, authentication.error
        database = RequestDatabase(store)
        try:
            context = await admit_named(request, database, principal, slug, Requirement("org:read"))
        finally:
            await database.close()
        assert context.role is Role.OWNER

    async def timed(token: str, slug: str) -> float:
        start = time.perf_counter()
        await one(token, slug)
        return time.perf_counter() - start

    try:
        await one(*samples[0])  # connect and prepare the statements outside the measurement
        with store.statements() as seen:
            for sample in samples[1:]:
                caches.flush()  # the organization too may have been read for an earlier sample
                before = len(seen)
                timings.cold.append(await timed(*sample))
                timings.cold_statements += len(seen) - before
                before = len(seen)
                timings.warm.append(await timed(*sample))
                timings.warm_statements += len(seen) - before
    finally:
        await store.close()
    return timings


def cold_path(database_url: str, secret: str, *, tokens: int, organizations: int) -> Figure:
    """Figure 2: a cache-missing authentication + decision against a large population, against
    the same with every cache hit."""
    started = time.perf_counter()
    population = seed_population(database_url, tokens, organizations, samples=2000)
    seeded = time.perf_counter() - started
    timings = asyncio.run(_cold_and_warm(database_url, secret, population.samples))
    cold, warm = timings.cold, timings.warm
    p50, p99 = _percentile(cold, 0.5), _percentile(cold, 0.99)
    warm50, warm99 = _percentile(warm, 0.5), _percentile(warm, 0.99)
    above = p99 - warm99
    return Figure(
        "cold-path",
        f"p99 {_ms(above)} above warm (cold p50 {_ms(p50)}, p99 {_ms(p99)}; warm p99 "
        f"{_ms(warm99)}; {tokens:,} tokens, {organizations:,} organizations; "
        "goal p99 <= 1 ms above warm)",
        [
            ("population", f"{tokens:,} tokens, {organizations:,} organizations"),
            ("seeded with COPY in", f"{seeded:.1f} s"),
            ("cold auth + decision p50 / p99", f"{_ms(p50)} / {_ms(p99)}"),
            ("warm auth + decision p50 / p99", f"{warm50 * 1e6:.1f} us / {warm99 * 1e6:.1f} us"),
            ("cold p99 above warm p99", f"{_ms(above)} (goal <= 1 ms)"),
            ("cold / warm (p50)", f"{p50 / warm50:.0f}x"),
            (
                "store statements per lookup, cold / warm",
                f"{timings.cold_statements / len(cold):.2f} / "
                f"{timings.warm_statements / len(warm):.2f}",
            ),
        ],
    )


def propagation(database_url: str, secret: str, *, flips: int) -> Figure:
    """Figure 3: the owner flips the policy on A; how long until B answers the new decision."""
    delays: list[float] = []
    with (
        serve(GATED, database_url, secret) as a,
        serve(GATED, database_url, secret) as b,
    ):
        owner = owner_with_token(database_url, a.url)
        path = f"/api/0/organizations/{owner.slug}/"
        with httpx.Client(base_url=b.url, headers=owner.bearer, timeout=10) as on_b:
            assert on_b.get(path).status_code == 200
            for flip in range(flips):
                allow = flip % 2 == 1
                expected = 200 if allow else 403
                settings = {"settings": {"allow_personal_tokens": allow}}
                owner.session.put(path, json=settings).raise_for_status()
                changed = time.perf_counter()
                while on_b.get(path).status_code != expected:
                    if time.perf_counter() - changed > 10:
                        raise RuntimeError("B never followed the flip")
                delays.append(time.perf_counter() - changed)
        owner.session.close()
    p50, p99 = _percentile(delays, 0.5), _percentile(delays, 0.99)
    return Figure(
        "propagation",
        f"p50 {_ms(p50)}, p99 {_ms(p99)} over {flips} flips (goal p99 < 50 ms)",
        [
            ("flips on A", str(flips)),
            ("delay until B answers anew p50 / p99", f"{_ms(p50)} / {_ms(p99)}"),
            ("max", _ms(max(delays))),
            ("mean", _ms(statistics.fmean(delays))),
        ],
    )


def usage_writes(
    database_url: str,
    secret: str,
    *,
    requests: int,
    flush_seconds: float = Settings.usage_flush_seconds,  # the shipped default
) -> Figure:
    """Figure 4: store writes made by usage recording, per 10,000 authenticated requests."""
    env = {"TOKENWARD_USAGE_FLUSH_SECONDS": str(flush_seconds)}
    with serve(GATED, database_url, secret, **env) as server:
        owner = owner_with_token(database_url, server.url)
        time.sleep(flush_seconds * 1.5)  # let any setup batch land first
        before = server.metric("tokenward_usage_writes_total")
        path = f"{server.url}/api/0/organizations/{owner.slug}/"
        sent, per_second = throughput(path, owner.bearer, seconds=3600, requests=requests)
        time.sleep(flush_seconds * 2.5)  # the last batch lands
        writes = server.metric("tokenward_usage_writes_total") - before
        owner.session.close()
    per_10k = writes * 10_000 / sent
    return Figure(
        "usage-writes",
        f"{per_10k:.1f} store writes per 10,000 requests (goal: a handful, not 10,000)",
        [
            ("requests sent", f"{sent:,} at {per_second:.0f}/s"),
            ("usage flush interval", f"{flush_seconds:g} s"),
            ("write statements", f"{writes:.0f}"),
            ("per 10,000 requests", f"{per_10k:.1f}"),
        ],
    )
