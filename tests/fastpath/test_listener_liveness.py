"""A change listener that dies without a word is trusted for at most a second after it last
answered: past that, no decision comes from a cache."""

from __future__ import annotations

import time

import httpx

from tests.fastpath.conftest import listening, start_server, wait_for
from tests.support import World
from tests.tcp_proxy import TcpProxy

LIVENESS_SECONDS = 1.0  # the bound this service promises


def test_no_cached_decision_a_second_after_the_listener_went_silent(
    postgres_url: str, secret: str
) -> None:
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    proxied_url = postgres_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    assert proxied_url != postgres_url
    server = start_server(proxied_url, secret)
    world = World(server)
    try:
        owner = world.session("Owner")
        slug = world.organization(owner)
        token = world.personal_token(owner, ["org:read"])
        path = f"{server.url}/api/0/organizations/{slug}/"
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(headers=headers, timeout=0.5) as client:
            for _ in range(3):  # the decision is cached
                assert client.get(path).status_code == 200
            wait_for(lambda: listening(server), "the listener to be up")

            proxy.go_silent()  # the store (listener and pool alike) stops answering, silently
            went_silent = time.monotonic()
            answered_from_cache = []
            while (sent := time.monotonic()) < went_silent + 3 * LIVENESS_SECONDS:
                try:
                    status = client.get(path).status_code
                except httpx.TimeoutException:
                    status = None  # waiting on the silent store: not a cached answer
                # Only a cache can answer 200 now; after the bound (with a margin for this
                # client's own clock) it must not.
                if status == 200 and sent > went_silent + LIVENESS_SECONDS + 0.05:
                    answered_from_cache.append(round(sent - went_silent, 2))
            assert not answered_from_cache, answered_from_cache
    finally:
        world.close()
        proxy.cut()  # the server's connections fail at once instead of waiting
        server.stop()
