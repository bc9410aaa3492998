"""Slow clients cost nothing but their own connection: a body that never arrives holds no store
connection or lock, is answered 408 after the configured time, and reads never wait on a writer."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest

from tests.support import ON_POSTGRES, LiveServer, World, assert_error, running_server, unique

STALLED = 100


def _stalled_put(server: LiveServer, path: str, token: str) -> socket.socket:
    """A request whose headers promise a body that never comes."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(
        f"PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 50\r\n\r\n".encode()
    )
    return sock


@contextmanager
def _patient_server(database_urls: dict[str, str], backend: str) -> Iterator[LiveServer]:
    # Stalled bodies stay stalled for the whole test: nothing is freed by the 408.
    with running_server(database_urls[backend], body_timeout_seconds=600) as server:
        yield server


@pytest.mark.parametrize("backend", ["sqlite", ON_POSTGRES])
def test_a_hundred_stalled_bodies_leave_everyone_else_served(
    database_urls: dict[str, str], backend: str
) -> None:
    if backend not in database_urls:
        pytest.fail(f"this test needs the {backend} backend (TOKENWARD_TEST_BACKENDS)")
    with _patient_server(database_urls, backend) as server:
        world = World(server)
        owner = world.session("Owner")
        slug = world.organization(owner)
        project = world.project(owner, slug)
        outsider = world.personal_token(world.session("Outsider"))
        token = world.bearer(world.personal_token(owner, ["org:read", "project:read"]))
        waiting = world.user()
        stalled = [
            _stalled_put(server, f"/api/0/organizations/{slug}/", outsider) for _ in range(STALLED)
        ]
        try:
            assert world.anonymous().get("/healthz").status_code == 200
            world.login(waiting)
            assert token.get(f"/api/0/projects/{project}/").status_code == 200
            assert token.get(f"/api/0/organizations/{slug}/projects/").status_code == 200
            renamed = owner.put(f"/api/0/organizations/{slug}/", json={"name": unique("n")})
            assert renamed.status_code == 200, renamed.text
        finally:
            for sock in stalled:
                sock.close()
            world.close()


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1]), body


def test_a_body_that_does_not_arrive_in_time_is_answered_408(
    database_urls: dict[str, str],
) -> None:
    with running_server(database_urls["sqlite"], body_timeout_seconds=1) as server:
        world = World(server)
        try:
            owner = world.session("Owner")
            slug = world.organization(owner)
            token = world.personal_token(owner)
            with closing(_stalled_put(server, f"/api/0/organizations/{slug}/", token)) as sock:
                sock.sendall(b'{"name": ')  # a start, and then nothing
                status, body = _read_response(sock)
            assert status == 408
            assert b'"request-timeout"' in body
            assert world.anonymous().get("/healthz").status_code == 200
            assert owner.get(f"/api/0/organizations/{slug}/").json()["name"] == slug.title()
        finally:
            world.close()


def test_reads_take_no_write_lock_on_sqlite(database_urls: dict[str, str]) -> None:
    with running_server(database_urls["sqlite"]) as server:
        world = World(server)
        try:
            owner = world.session("Owner")
            slug = world.organization(owner)
            world.project(owner, slug)
            token = world.bearer(world.personal_token(owner, ["org:read", "project:read"]))
            path = server.settings.database_url.split(":///", 1)[1]
            # Another process writing (a long migration, a `createuser`) holds the write lock.
            with closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as writer:
                writer.execute("BEGIN IMMEDIATE")
                try:
                    for _ in range(3):
                        listed = token.get(f"/api/0/organizations/{slug}/projects/")
                        assert listed.status_code == 200, listed.text
                        assert len(listed.json()) == 1
                    members = owner.get(f"/api/0/organizations/{slug}/members/")
                    assert members.status_code == 200, members.text
                finally:
                    writer.execute("ROLLBACK")
            assert_error(
                world.anonymous().get(f"/api/0/organizations/{slug}/"),
                401,
                "authentication-required",
            )
        finally:
            world.close()
