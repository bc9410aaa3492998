import logging

import pytest

from tests.leakwatch import WATCH
from tests.support import PASSWORD, World, error_code
from tokenward.auth.login_throttle import LoginThrottle, ThrottleLimits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_counts_failures_per_email_and_forgets_after_the_window() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(ThrottleLimits(per_address=100, per_email=3, window_seconds=60), clock)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1", "a@example.com") is None
        throttle.record_failure("10.0.0.1", "A@Example.com ")
    assert throttle.retry_after("10.0.0.2", "a@example.com") == 60
    assert throttle.retry_after("10.0.0.1", "b@example.com") is None
    clock.now += 30
    assert throttle.retry_after("10.0.0.1", "a@example.com") == 30
    clock.now += 30.5
    assert throttle.retry_after("10.0.0.1", "a@example.com") is None


def test_throttle_counts_failures_per_address_across_emails() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(ThrottleLimits(per_address=2, per_email=100, window_seconds=10), clock)
    throttle.record_failure("10.0.0.9", "one@example.com")
    throttle.record_failure("10.0.0.9", "two@example.com")
    assert throttle.retry_after("10.0.0.9", "three@example.com") == 10
    assert throttle.retry_after("10.0.0.8", "three@example.com") is None


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_login_is_rate_limited_per_email_and_failures_are_logged_without_password(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    account = world.user()
    client = world.anonymous()
    wrong = "not-the-password-" + "x" * 8
    WATCH.password(wrong)
    limit = world.server.app.state.login_throttle.limits.per_email
    with caplog.at_level(logging.WARNING, logger="tokenward.auth"):
        for _ in range(limit):
            response = client.post(
                "/api/0/auth/login/", json={"email": account.email, "password": wrong}
            )
            assert error_code(response) == "invalid-credentials"
        blocked = client.post(
            "/api/0/auth/login/", json={"email": account.email, "password": PASSWORD}
        )
    assert blocked.status_code == 429
    assert error_code(blocked) == "rate-limited"
    assert int(blocked.headers["Retry-After"]) > 0
    failures = [r.getMessage() for r in caplog.records if "failed login" in r.getMessage()]
    assert len(failures) == limit
    assert all(account.email in line and wrong not in line for line in failures)
