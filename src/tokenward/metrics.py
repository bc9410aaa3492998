"""Prometheus metrics, one registry per application (several apps may share a test process).

Under ``tokenward serve --workers N`` every worker writes its values to files in a directory
that ``serve`` creates for the run (``PROMETHEUS_MULTIPROC_DIR``, prometheus_client's
multiprocess mode), and ``/metrics`` adds up all the workers' files: one scrape, whichever worker
answers it, tells the whole server's counts.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "MULTIPROCESS_DIRECTORY", "Metrics"]

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


def _multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIRECTORY))


class Metrics:
    """The counters Tokenward exports at ``/metrics``. Nothing here carries a credential."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.decisions = Counter(
            "tokenward_decisions",
            "Gate decisions on organization requests, by outcome and code.",
            ["outcome", "code"],
            registry=registry,
        )
        self.cache_hits = Counter(
            "tokenward_cache_hits", "Lookups answered from a cache.", ["cache"], registry=registry
        )
        self.cache_misses = Counter(
            "tokenward_cache_misses",
            "Lookups that went to the store because the cache had no fresh entry.",
            ["cache"],
            registry=registry,
        )
        self.cache_bypasses = Counter(
            "tokenward_cache_bypasses",
            "Lookups that went to the store because the caches could not be trusted "
            "(change listener disconnected).",
            ["cache"],
            registry=registry,
        )
        self.invalidations_received = Counter(
            "tokenward_invalidations_received",
            "Change notifications received from other processes (and this one) over LISTEN.",
            ["kind"],
            registry=registry,
        )
        self.invalidations_local = Counter(
            "tokenward_invalidations_local",
            "Changes made by this process and invalidated locally before the response.",
            ["kind"],
            registry=registry,
        )
        self.cache_flushes = Counter(
            "tokenward_cache_flushes",
            "Whole-cache flushes (listener (re)connected or lost).",
            registry=registry,
        )
        self.listener_connected = Gauge(
            "tokenward_listener_connected",
            "1 while the change listener connection is up (caches in use), else 0.",
            registry=registry,
            multiprocess_mode="livemin",  # several workers: 1 only if every one is listening
        )
        self.usage_batches = Counter(
            "tokenward_usage_batches",
            "Usage batches written to the store.",
            registry=registry,
        )
        self.usage_writes = Counter(
            "tokenward_usage_writes",
            "Store write statements issued by usage batches.",
            registry=registry,
        )
        self.usage_failures = Counter(
            "tokenward_usage_batch_failures",
            "Usage batches that failed and were kept for the next attempt.",
            registry=registry,
        )

        # Each process's own decisions: with several workers one scrape reports them all, told
        # apart by their pid label (multiprocess "all" mode), where the counter above sums them.
        self.worker_decisions = Gauge(
            "tokenward_worker_decisions",
            "Gate decisions made by this server process, by code.",
            ["code"],
            registry=registry,
            multiprocess_mode="all",
        )

    def exposition(self) -> bytes:
        if _multiprocess():
            every_worker = CollectorRegistry()
            multiprocess.MultiProcessCollector(every_worker)  # type: ignore[no-untyped-call]
            return generate_latest(every_worker)
        return generate_latest(self.registry)

    def close(self) -> None:
        """At a worker's exit: its live gauges no longer count."""
        if _multiprocess():
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
