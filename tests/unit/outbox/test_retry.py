"""The retry policy: exponential backoff, capped, with jitter, and a limit on attempts."""

from __future__ import annotations

import datetime as dt
import random

from app.config import Settings
from app.outbox.retry import RetryPolicy

POLICY = RetryPolicy(max_attempts=4, base_seconds=30, cap_seconds=300)


def test_delays_double_up_to_the_cap_and_keep_at_least_half() -> None:
    rng = random.Random(7)
    for attempts, full in ((1, 30), (2, 60), (3, 120), (4, 240), (5, 300), (12, 300)):
        delays = [POLICY.delay(attempts, rng) for _ in range(200)]
        assert min(delays) >= full / 2
        assert max(delays) <= full
        assert max(delays) - min(delays) > full / 4  # jittered, not all at once


def test_the_policy_gives_up_after_its_attempts() -> None:
    assert not POLICY.gives_up_after(3)
    assert POLICY.gives_up_after(4)


def test_the_next_attempt_is_now_plus_the_delay() -> None:
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    at = POLICY.next_attempt(now, 1, random.Random(1))
    assert now + dt.timedelta(seconds=15) <= at <= now + dt.timedelta(seconds=30)


def test_settings_make_the_policy() -> None:
    settings = Settings(
        outbox_max_attempts=3,
        outbox_backoff_seconds=5,
        outbox_backoff_max_seconds=50,
        _env_file=None,
    )
    assert RetryPolicy.from_settings(settings) == RetryPolicy(3, 5, 50)
