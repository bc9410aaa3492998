from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Cast, LiveServer


@pytest.fixture(scope="session")
def cast(server: LiveServer) -> Iterator[Cast]:
    cast = Cast(server)
    yield cast
    cast.close()
