"""``make bench`` is not part of the test run, but its code is: every figure on tiny sizes. The
Django peer is left out: building its virtualenv needs the network, and ``make bench`` runs it."""

from __future__ import annotations

import pytest
from bench.__main__ import main


@pytest.mark.slow
@pytest.mark.postgres  # the bench's databases are PostgreSQL's
@pytest.mark.timeout(900)  # a dozen server processes start one after another on a busy machine
def test_the_benchmark_runs_end_to_end_on_tiny_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    figures = main(
        {
            "TOKENWARD_BENCH_TOKENS": "300",
            "TOKENWARD_BENCH_ORGS": "40",
            "TOKENWARD_BENCH_SECONDS": "1",
            "TOKENWARD_BENCH_FLIPS": "4",
            "TOKENWARD_BENCH_REQUESTS": "200",
            "TOKENWARD_BENCH_FLUSH_SECONDS": "0.3",
            "TOKENWARD_BENCH_ROUNDS": "1",
            "TOKENWARD_BENCH_SCALE_TOKENS": "200",
            "TOKENWARD_BENCH_PRINCIPALS": "500",
            "TOKENWARD_BENCH_FLOOD_REQUESTS": "20",
            "TOKENWARD_BENCH_LEAKS": "20",
            "TOKENWARD_BENCH_PEER": "0",
        }
    )
    assert [figure.name for figure in figures] == [
        "end-to-end",
        "gate-cost",
        "health",
        "gateway",
        "cold-path",
        "token-scale",
        "memory",
        "propagation",
        "usage-writes",
        "sign-in-flood",
        "leak-report",
    ]
    (end_to_end, *_) = figures
    assert [label for label, _ in end_to_end.rows if "requests/s" in label] == [
        "sqlite: Tokenward requests/s (uvicorn, 1 process)",
        "postgresql: Tokenward requests/s (uvicorn, 1 process)",
    ]
    summary = capsys.readouterr().out.strip().splitlines()[-len(figures) :]
    assert [line.split(":")[0] for line in summary] == [figure.name for figure in figures]
    assert all("goal" in line for line in summary)
