"""Debian's nginx and Caddy, run as our own processes with the configurations of docs/gateway.md.

Each proxy gets a private directory for its configuration, pid, logs and temporary files, and
free ports; the documented addresses are swapped for the test's Tokenward and upstream.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

__all__ = ["PROXIES", "PROXY_PARAMS", "Proxy", "documented_config", "running_proxy"]

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_TOKENWARD = "127.0.0.1:8000"
DOCUMENTED_UPSTREAM = "127.0.0.1:3000"
PROXIES = ("nginx", "caddy")
# As fixture parameters: marked so that ``-m "not proxy"`` leaves out what needs nginx or Caddy.
PROXY_PARAMS = [pytest.param(name, marks=pytest.mark.proxy) for name in PROXIES]


def documented_config(kind: str) -> str:
    """The configuration block of docs/gateway.md for ``kind``, word for word."""
    text = (ROOT / "docs" / "gateway.md").read_text(encoding="utf-8")
    block = text.split(f"<!-- config:{kind} -->", 1)[1]
    found = re.search(r"```[a-z]*\n(.*?)```", block, re.S)
    assert found, f"docs/gateway.md has no {kind} configuration"
    return found.group(1)


@dataclass
class Proxy:
    kind: str
    url: str
    process: subprocess.Popen[bytes]
    directory: Path

    def log(self) -> str:
        logs = [p.read_text(errors="replace") for p in self.directory.glob("*.log")]
        return "\n".join(logs)


def _nginx(directory: Path, port: int, tokenward: str, upstream: str) -> list[str]:
    site = (
        documented_config("nginx")
        .replace(DOCUMENTED_TOKENWARD, tokenward)
        .replace(DOCUMENTED_UPSTREAM, upstream)
        .replace("listen 8080;", f"listen 127.0.0.1:{port};")
    )
    temp = directory / "temp"
    temp.mkdir()
    conf = f"""
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
user root;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
"""
    (directory / "nginx.conf").write_text(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return [nginx, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"]


def _caddy(directory: Path, port: int, tokenward: str, upstream: str) -> list[str]:
    site = (
        documented_config("caddy")
        .replace(DOCUMENTED_TOKENWARD, tokenward)
        .replace(DOCUMENTED_UPSTREAM, upstream)
        .replace(":8080 {", f"http://127.0.0.1:{port} {{", 1)
    )
    conf = f"""{{
	admin off
	auto_https off
	storage file_system {directory}/data
	log {{
		output file {directory}/caddy.log
		level WARN
	}}
}}
{site}"""
    (directory / "Caddyfile").write_text(conf)
    caddy = shutil.which("caddy") or "/usr/bin/caddy"
    return [caddy, "run", "--config", str(directory / "Caddyfile"), "--adapter", "caddyfile"]


def _without_root_user(command: list[str], directory: Path) -> list[str]:
    """nginx started by an unprivileged user cannot switch users: drop the directive."""
    conf = directory / "nginx.conf"
    if conf.exists() and os.geteuid() != 0:
        conf.write_text(conf.read_text().replace("user root;\n", ""))
    return command


@contextmanager
def running_proxy(kind: str, directory: Path, tokenward: str, upstream: str) -> Iterator[Proxy]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    build = _nginx if kind == "nginx" else _caddy
    command = _without_root_user(build(directory, port, tokenward, upstream), directory)
    process = subprocess.Popen(
        command,
        cwd=directory,
        stdout=(directory / "stdout.log").open("wb"),
        stderr=subprocess.STDOUT,
        env={"HOME": str(directory), "PATH": "/usr/sbin:/usr/bin:/bin"},
    )
    proxy = Proxy(kind, f"http://127.0.0.1:{port}", process, directory)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, f"{kind} exited:\n{proxy.log()}"
            try:
                httpx.get(proxy.url + "/", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"{kind} did not start:\n{proxy.log()}"
                time.sleep(0.05)
        yield proxy
    finally:
        process.send_signal(signal.SIGTERM)  # fast shutdown: idle keep-alive need not drain
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
