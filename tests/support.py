"""Test helpers: a live server per backend, HTTP clients for each kind of caller, factories."""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI

from tests.leakwatch import WATCH
from tokenward import passwords
from tokenward.app import create_app
from tokenward.config import Settings, normalize_database_url
from tokenward.passwords import hash_password
from tokenward.policy import ALL_SCOPES
from tokenward.store.engine import Store
from tokenward.store.migrate import upgrade
from tokenward.store.tables import User

POSTGRES_ADMIN_URL = os.environ.get(
    "TOKENWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "correct horse battery staple"
WATCH.password(PASSWORD)
_counter = itertools.count()


def unique(prefix: str) -> str:
    """A slug-safe unique name, so tests share one database without seeing each other's data."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """A real uvicorn server on loopback, in a thread, over one test database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Idle connections are kept well past any pause in a test: with uvicorn's default of 5 s a
        # busy machine can let the server close a connection just as the client reuses it.
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            # uvicorn's own loggers at info, left unconfigured: the access log is watched too.
            log_level="info",
            log_config=None,
            lifespan="on",
            timeout_keep_alive=120,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def unstarted_app() -> FastAPI:
    """The application as ``create_app`` builds it, never started: for walking its routes."""
    never_opened = Path(tempfile.gettempdir()) / "tokenward-never-opened.db"
    return create_app(Settings(database_url=f"sqlite+aiosqlite:///{never_opened}", secret_key="-"))


@functools.cache
def shared_secret_key(database_url: str) -> str:
    """The secret key of every server over ``database_url``, as deployment requires: a process
    that sends another's queued email derives its links with its own key."""
    return "test-secret-" + uuid.uuid4().hex


@contextmanager
def running_server(database_url: str, **settings: Any) -> Iterator[LiveServer]:
    """A live server over ``database_url`` (migrated first), stopped when the block ends."""
    run_async(_migrate(database_url))
    settings.setdefault("secret_key", shared_secret_key(database_url))
    # Notices go out at once unless a test groups them on purpose.
    settings.setdefault("notice_delay_seconds", 0.0)
    server = LiveServer(Settings(database_url=database_url, **settings)).start()
    try:
        yield server
    finally:
        server.stop()


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped when the block ends."""
    name = f"tokenward_test_{uuid.uuid4().hex[:12]}"
    try:
        run_async(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL is needed for these tests and is not reachable: {error}")
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield normalize_database_url(f"{base}/{name}")
    finally:
        run_async(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_async(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def _migrate(database_url: str) -> None:
    store = Store(database_url)
    try:
        await upgrade(store.engine)
    finally:
        await store.close()


def cheap_password_hashing() -> None:
    """argon2id at its lowest cost in this process's servers, for ``make check``: its tests sign
    in some three hundred times at a fifth of a second of CPU each, a third of the run. The code
    path is the same; ``make test`` keeps the shipped cost, as do servers in their own process."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    passwords._hasher = hasher
    passwords._DUMMY_HASH = hasher.hash("tokenward-timing-equalizer")


@functools.cache
def password_hash() -> str:
    """One argon2 hash of ``PASSWORD`` for every test user: hashing is slow, users are many."""
    return hash_password(PASSWORD)


async def _create_user(database_url: str, email: str, name: str) -> None:
    store = Store(database_url)
    try:
        async with store.session() as db:
            db.add(User(email=email, name=name, password_hash=password_hash()))
            await db.commit()
    finally:
        await store.close()


@dataclass
class UserAccount:
    email: str
    name: str
    password: str = PASSWORD


class ApiClient:
    """An HTTP client acting as one caller: anonymous, a browser session, or a bearer token."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            timeout=30,
            headers=headers or {},
            event_hooks={"response": [WATCH.response]},
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.http.close()


class World:
    """Factories bound to one live server: users, sessions, tokens, organizations."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.clients: list[ApiClient] = []

    def client(self, headers: dict[str, str] | None = None) -> ApiClient:
        client = ApiClient(self.server.url, headers)
        self.clients.append(client)
        return client

    def anonymous(self) -> ApiClient:
        return self.client()

    def bearer(self, token: str) -> ApiClient:
        return self.client({"Authorization": f"Bearer {token}"})

    def user(self, name: str = "") -> UserAccount:
        email = f"{unique('user')}@example.com"
        name = name or f"User {next(_counter)}"
        run_async(_create_user(self.server.settings.database_url, email, name))
        return UserAccount(email, name)

    def login(self, account: UserAccount) -> ApiClient:
        client = self.client()
        response = client.post(
            "/api/0/auth/login/", json={"email": account.email, "password": account.password}
        )
        assert response.status_code == 200, response.text
        client.http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def session(self, name: str = "") -> ApiClient:
        return self.login(self.user(name))

    def organization(self, owner: ApiClient, **settings: Any) -> str:
        slug = unique("org")
        response = owner.post("/api/0/organizations/", json={"slug": slug, "name": slug.title()})
        assert response.status_code == 201, response.text
        if settings:
            changed = owner.put(f"/api/0/organizations/{slug}/", json={"settings": settings})
            assert changed.status_code == 200, changed.text
        return slug

    def add_member(self, owner: ApiClient, slug: str, account: UserAccount, role: str) -> str:
        response = owner.post(
            f"/api/0/organizations/{slug}/members/", json={"email": account.email, "role": role}
        )
        assert response.status_code == 201, response.text
        member_id: str = response.json()["id"]
        return member_id

    def personal_token(
        self, session: ApiClient, scopes: list[str] | None = None, **extra: Any
    ) -> str:
        body = {"name": unique("token"), "scopes": scopes or sorted(ALL), **extra}
        response = session.post("/api/0/users/me/tokens/", json=body)
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    def organization_token(
        self, owner: ApiClient, slug: str, scopes: list[str] | None = None
    ) -> str:
        body = {"name": unique("automation"), "scopes": scopes or sorted(ALL)}
        response = owner.post(f"/api/0/organizations/{slug}/tokens/", json=body)
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    def member(self, owner: ApiClient, slug: str, role: str = "member") -> Member:
        """A new user added to ``slug`` with ``role``, signed in."""
        account = self.user()
        member_id = self.add_member(owner, slug, account, role)
        return Member(account, self.login(account), member_id)

    def project(self, client: ApiClient, slug: str) -> str:
        project_slug = unique("proj")
        response = client.post(
            f"/api/0/organizations/{slug}/projects/", json={"slug": project_slug, "name": "P"}
        )
        assert response.status_code == 201, response.text
        project_id: str = response.json()["id"]
        return project_id

    def close(self) -> None:
        for client in self.clients:
            client.close()


class Cast:
    """Signed-in people shared by many tests on one server, to spare a password hash and a login
    per test. Safe for tests that make their own organizations and look only inside them; a test
    that logs out, revokes or counts a user's own tokens makes its own users instead."""

    def __init__(self, server: LiveServer) -> None:
        self.world = World(server)
        self._people: dict[int, tuple[UserAccount, ApiClient]] = {}
        self._tokens: dict[tuple[int, frozenset[str]], str] = {}

    def account(self, index: int) -> UserAccount:
        return self._person(index)[0]

    def session(self, index: int) -> ApiClient:
        return self._person(index)[1]

    def _person(self, index: int) -> tuple[UserAccount, ApiClient]:
        if index not in self._people:
            account = self.world.user(f"Person {index}")
            self._people[index] = (account, self.world.login(account))
        return self._people[index]

    def token(self, index: int, scopes: list[str] | None = None) -> ApiClient:
        """A bearer client with a personal token of person ``index`` (every scope by default)."""
        key = (index, frozenset(scopes or ALL))
        if key not in self._tokens:
            self._tokens[key] = self.world.personal_token(self.session(index), sorted(key[1]))
        return self.world.bearer(self._tokens[key])

    def organization(self, owner: int = 0, **settings: Any) -> str:
        return self.world.organization(self.session(owner), **settings)

    def join(self, slug: str, index: int, role: str, owner: int = 0) -> str:
        """Add person ``index`` to ``slug`` with ``role``; returns the member id."""
        return self.world.add_member(self.session(owner), slug, self.account(index), role)

    def close(self) -> None:
        self.world.close()


@dataclass
class Member:
    account: UserAccount
    session: ApiClient
    member_id: str


ALL = set(ALL_SCOPES)


def error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("detail"), dict):
        code: str | None = body["detail"].get("code")
        return code
    return None


def assert_error(
    response: httpx.Response, status: int, code: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The response is the coded error of docs/api.md; returns its ``detail``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["detail"], body
    detail: dict[str, Any] = body["detail"]
    assert set(detail) == {"code", "message", "extra"}, detail
    assert detail["code"] == code, detail
    assert isinstance(detail["message"], str) and detail["message"], detail
    assert isinstance(detail["extra"], dict), detail
    if extra is not None:
        assert detail["extra"] == extra, detail
    return detail


def error_fields(response: httpx.Response) -> list[str]:
    """The fields named by a 400 invalid-request."""
    detail = assert_error(response, 400, "invalid-request")
    errors = detail["extra"]["errors"]
    assert errors and all(set(item) == {"field", "message"} for item in errors), errors
    return [item["field"] for item in errors]


def next_link(response: httpx.Response) -> str | None:
    """The URL of the ``rel="next"`` link (RFC 8288), or None on the last page."""
    link: str | None = response.headers.get("Link")
    if link is None:
        return None
    target, _, params = link.partition(";")
    assert target.strip().startswith("<") and target.strip().endswith(">"), link
    assert params.strip() == 'rel="next"', link
    url = target.strip()[1:-1]
    assert parse_qs(urlsplit(url).query).get("cursor"), link
    return url


def all_pages(client: ApiClient, path: str, per_page: int) -> list[list[Any]]:
    """Follow the next links from the first page; the items of every page."""
    pages: list[list[Any]] = []
    url: str | None = f"{path}?per_page={per_page}"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        url = next_link(response)
        assert len(pages) < 100, "the next links never end"
    return pages


# A fixture or test parameter that needs PostgreSQL, whatever TOKENWARD_TEST_BACKENDS says: marked
# so that ``-m "not postgres"`` (``make check``) leaves out everything that depends on it.
ON_POSTGRES = pytest.param("postgresql", marks=pytest.mark.postgres)


def eventually(check: Callable[[], object], seconds: float = 10.0) -> bool:
    """Whether ``check()`` turns true within ``seconds``, asking every 50 ms; a generous bound that
    only catches hangs, never a timing assertion."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())
