"""The gateway figure: requests/s through nginx with gateway mode over nginx with no
authentication, in front of the same upstream, and the latency gateway mode adds (p50, p99).

One nginx process serves three sites: the upstream (a fixed answer from nginx itself, so the
figure is the cost of the check and nothing of an application's), the documented gateway
configuration from docs/gateway.md, and the same proxy with no ``auth_request``.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.environment import free_port, serve
from bench.figures import Figure
from bench.load import WRK
from bench.seed import owner_with_token

__all__ = ["gateway_cost"]

ROOT = Path(__file__).resolve().parent.parent
GATED = "bench.apps:gated_app"
ROUTES = """\
[[route]]
path = "/orgs/{org}/items"
organization = "{org}"
scope = "org:read"
"""


@dataclass
class Load:
    rate: float
    p50: float  # seconds
    p99: float


def _documented_nginx() -> str:
    text = (ROOT / "docs" / "gateway.md").read_text(encoding="utf-8")
    block = text.split("<!-- config:nginx -->", 1)[1]
    found = re.search(r"```nginx\n(.*?)```", block, re.S)
    if found is None:
        raise LookupError("docs/gateway.md has no nginx configuration")
    return found.group(1)


@contextlib.contextmanager
def _nginx(tokenward: str) -> Iterator[tuple[str, str]]:
    """Yields the URLs of the gateway site and of the no-auth site."""
    ports = [free_port() for _ in range(3)]
    upstream, gated, plain = ports
    site = (
        _documented_nginx()
        .replace("127.0.0.1:8000", tokenward)
        .replace("127.0.0.1:3000", f"127.0.0.1:{upstream}")
        .replace("listen 8080;", f"listen 127.0.0.1:{gated};")
    )
    with tempfile.TemporaryDirectory(prefix="tokenward-bench-nginx-") as directory:
        conf = Path(directory) / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{
        listen 127.0.0.1:{upstream};
        default_type application/json;
        location / {{ return 200 '{{"ok":true}}'; }}
    }}
    server {{
        listen 127.0.0.1:{plain};
        location / {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }}
    }}
{site}
}}
"""
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        process = subprocess.Popen(
            [nginx, "-p", directory, "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start")
                with contextlib.suppress(httpx.TransportError):
                    httpx.get(f"http://127.0.0.1:{plain}/", timeout=2)
                    break
                time.sleep(0.05)
            yield f"http://127.0.0.1:{gated}", f"http://127.0.0.1:{plain}"
        finally:
            process.send_signal(signal.SIGQUIT)
            process.wait(timeout=20)


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def _latency(output: str, percent: str) -> float:
    found = re.search(rf"^\s+{percent}%\s+([0-9.]+)(us|ms|s)\s*$", output, re.M)
    if found is None:
        raise RuntimeError(f"no {percent}% latency in wrk output:\n{output}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def _wrk(url: str, headers: dict[str, str], seconds: float) -> Load:
    assert WRK is not None
    arguments = [WRK, "-t1", "-c16", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        arguments += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*arguments, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw refusals:\n{output}")
    found = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return Load(float(found.group(1)), _latency(output, "50"), _latency(output, "99"))


def _sequential(url: str, headers: dict[str, str], seconds: float) -> Load:
    """Without wrk: one keep-alive connection, request after request."""
    latencies: list[float] = []
    with httpx.Client(headers=headers, timeout=30) as client:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            response = client.get(url)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"refused: {response.status_code} {response.text}")
    latencies.sort()
    return Load(
        len(latencies) / sum(latencies),
        latencies[len(latencies) // 2],
        latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
    )


def _measure(url: str, headers: dict[str, str], seconds: float) -> Load:
    return _wrk(url, headers, seconds) if WRK else _sequential(url, headers, seconds)


def gateway_cost(database_url: str, secret: str, *, seconds: float) -> Figure:
    with tempfile.TemporaryDirectory(prefix="tokenward-bench-routes-") as directory:
        routes = Path(directory) / "routes.toml"
        routes.write_text(ROUTES, encoding="utf-8")
        with serve(GATED, database_url, secret, TOKENWARD_GATEWAY_ROUTES=str(routes)) as server:
            owner = owner_with_token(database_url, server.url)
            address = server.url.removeprefix("http://")
            with _nginx(address) as (gated, plain):
                path = f"/orgs/{owner.slug}/items"
                for url in (gated, plain):  # warm caches and connections
                    _measure(url + path, owner.bearer, 1)
                with_gateway = _measure(gated + path, owner.bearer, seconds)
                without = _measure(plain + path, owner.bearer, seconds)
    ratio = with_gateway.rate / without.rate
    rows = [
        ("nginx + gateway requests/s (personal token)", f"{with_gateway.rate:.0f}"),
        ("nginx, no auth, requests/s (same upstream)", f"{without.rate:.0f}"),
        ("ratio", f"{ratio:.3f}"),
        ("added latency p50", f"{(with_gateway.p50 - without.p50) * 1000:.2f} ms"),
        ("added latency p99", f"{(with_gateway.p99 - without.p99) * 1000:.2f} ms"),
        ("load generator", "wrk -t1 -c16 --latency" if WRK else "httpx, one connection"),
    ]
    summary = (
        f"{ratio:.2f}x no-auth nginx throughput, +{(with_gateway.p50 - without.p50) * 1000:.2f} ms "
        f"p50, +{(with_gateway.p99 - without.p99) * 1000:.2f} ms p99 (goal: reported, no bound)"
    )
    return Figure("gateway", summary, rows)
