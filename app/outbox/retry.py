"""When a failed delivery is tried again: exponential backoff with a cap and full jitter."""

from __future__ import annotations

import datetime as dt
import random


def backoff_seconds(
    attempts: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Delay after `attempts` failed tries: base*2^(attempts-1), capped, jittered.

    The jitter keeps the delay between half and all of the exponential value, so many
    messages that failed together (a mail server outage) do not all return at once.
    """
    exponential = min(cap, base * 2 ** max(0, attempts - 1))
    fraction = rng.random() if rng is not None else random.random()  # noqa: S311 - timing, not security
    return float(exponential * (0.5 + 0.5 * fraction))


def next_attempt(
    now: dt.datetime, attempts: int, *, base: float, cap: float, rng: random.Random | None = None
) -> dt.datetime:
    return now + dt.timedelta(seconds=backoff_seconds(attempts, base=base, cap=cap, rng=rng))
