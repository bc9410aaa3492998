"""``make bench``: the fast path's figures and gateway mode's, each a ratio or bound measured in
one run.

Sizes come from the environment so the same code runs in seconds in the test suite:
TOKENWARD_BENCH_TOKENS (1,000,000), TOKENWARD_BENCH_ORGS (100,000), TOKENWARD_BENCH_SECONDS (5),
TOKENWARD_BENCH_ROUNDS (2, alternations of the compared servers), TOKENWARD_BENCH_SCALE_TOKENS
(100,000), TOKENWARD_BENCH_PRINCIPALS (100,000, cached for the memory figure),
TOKENWARD_BENCH_FLIPS (100), TOKENWARD_BENCH_REQUESTS (10,000), TOKENWARD_BENCH_FLUSH_SECONDS (3,
the shipped usage batch interval), TOKENWARD_BENCH_FLOOD_REQUESTS (300), TOKENWARD_BENCH_LEAKS
(1,000: the most one report may hold). TOKENWARD_BENCH_PEER=0 leaves the Django peer out of the
end-to-end figure (its virtualenv is built from the network on first use).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Mapping

from bench.end_to_end import end_to_end
from bench.environment import temporary_database
from bench.figures import (
    Figure,
    cold_path,
    gate_cost,
    health_cost,
    propagation,
    usage_writes,
)
from bench.gateway import gateway_cost
from bench.leak_report import leak_report
from bench.scale import principal_memory, token_scale
from bench.sign_in_flood import sign_in_flood

__all__ = ["main"]


def _size(environ: Mapping[str, str], name: str, default: float) -> float:
    return float(environ.get(f"TOKENWARD_BENCH_{name}", default))


def _table(figures: list[Figure]) -> str:
    width = max(len(label) for figure in figures for label, _ in figure.rows) + 2
    lines = []
    for figure in figures:
        lines.append(f"== {figure.name}")
        lines.extend(f"  {label:<{width}}{value}" for label, value in figure.rows)
    return "\n".join(lines)


def main(environ: Mapping[str, str] | None = None) -> list[Figure]:
    env = os.environ if environ is None else environ
    secret = "bench-" + uuid.uuid4().hex
    seconds = _size(env, "SECONDS", 5)
    rounds = int(_size(env, "ROUNDS", 2))
    with_peer = env.get("TOKENWARD_BENCH_PEER", "1") != "0"
    figures: list[Figure] = [
        end_to_end(secret, seconds=seconds, rounds=rounds, with_peer=with_peer)
    ]
    with temporary_database() as url:
        figures.append(gate_cost(url, secret, seconds=seconds, rounds=rounds))
        figures.append(health_cost(url, secret, seconds=seconds, rounds=rounds))
        figures.append(gateway_cost(url, secret, seconds=seconds))
    with temporary_database() as url:
        tokens, organizations = (
            int(_size(env, "TOKENS", 1_000_000)),
            int(_size(env, "ORGS", 100_000)),
        )
        figures.append(cold_path(url, secret, tokens=tokens, organizations=organizations))
    scale_tokens = int(_size(env, "SCALE_TOKENS", 100_000))
    figures.append(token_scale(secret, tokens=scale_tokens, seconds=seconds, rounds=rounds))
    principals = int(_size(env, "PRINCIPALS", 100_000))
    figures.append(principal_memory(principals, max_entries=principals))
    with temporary_database() as url:
        figures.append(propagation(url, secret, flips=int(_size(env, "FLIPS", 100))))
        requests = int(_size(env, "REQUESTS", 10_000))
        flush = _size(env, "FLUSH_SECONDS", 3.0)
        figures.append(usage_writes(url, secret, requests=requests, flush_seconds=flush))
        figures.append(sign_in_flood(url, secret, requests=int(_size(env, "FLOOD_REQUESTS", 300))))
    with temporary_database() as url:
        figures.append(leak_report(url, secret, items=int(_size(env, "LEAKS", 1000))))
    print(_table(figures))
    print()
    for figure in figures:
        print(f"{figure.name}: {figure.summary}")
    sys.stdout.flush()
    return figures


if __name__ == "__main__":
    main()
