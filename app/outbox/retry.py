"""When a failed delivery is tried again: exponential backoff with a cap and full jitter."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from app.config import Settings


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a message is tried, and how long to wait between tries."""

    max_attempts: int
    base_seconds: float
    cap_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.outbox_max_attempts,
            base_seconds=settings.outbox_backoff_seconds,
            cap_seconds=settings.outbox_backoff_max_seconds,
        )

    def gives_up_after(self, attempts: int) -> bool:
        """No attempt is left after `attempts` tries."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after `attempts` failed tries: base*2^(attempts-1), capped, jittered.

        The jitter keeps the delay between half and all of the exponential value, so many
        messages that failed together (a mail server outage) do not all return at once.
        """
        exponential = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        fraction = rng.random() if rng is not None else random.random()  # noqa: S311 - timing, not security
        return float(exponential * (0.5 + 0.5 * fraction))

    def next_attempt(
        self, now: dt.datetime, attempts: int, rng: random.Random | None = None
    ) -> dt.datetime:
        return now + dt.timedelta(seconds=self.delay(attempts, rng))
