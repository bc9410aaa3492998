"""The README's walkthrough, run word for word against a real ``tokenward serve``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.leakwatch import WATCH
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent


def _walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- walkthrough:start -->", 1)[1].split("<!-- walkthrough:end -->", 1)[0]
    match = re.search(r"```sh\n(.*?)```", block, re.S)
    assert match, "the README walkthrough has no sh block"
    return match.group(1)


@pytest.mark.slow  # a shell, the installed command and a server process
def test_readme_walkthrough_works_verbatim(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWARD_")}
    server = subprocess.Popen(
        [str(tmp_path / ".venv/bin/tokenward"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tokenward serve did not come up"
            time.sleep(0.1)
        script = _walkthrough().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        # Afterwards, the tokens the walkthrough minted, for the leak watch.
        issued = 'printf "%s\\n" "$TOKEN" "$ORG_TOKEN" > issued-tokens.txt\n'
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script + issued],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.terminate()
        banner = server.communicate(timeout=20)[0].decode()
    # The secrets the walkthrough issued and typed, then the server's whole log searched for them.
    issued_tokens = tmp_path / "issued-tokens.txt"
    for token in issued_tokens.read_text().split() if issued_tokens.exists() else []:
        WATCH.secret(token, "token")
    for password in re.findall(r"--password '([^']+)'", script):
        WATCH.password(password)
    WATCH.log_text(banner, "tokenward serve log")
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    assert output.count('"code":"personal-token-denied"') == 2, output
    assert '"allow_personal_tokens":{"old":true,"new":false}' in output, output
    assert '"actor":{"type":"user"' in output
    lines = output.splitlines()
    # The token read the project before the flip; the session and org token still read it after.
    assert sum('"slug":"website"' in line for line in lines) >= 4, output
    assert "http://127.0.0.1" in banner and "createuser" in banner
