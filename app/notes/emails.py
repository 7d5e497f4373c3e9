"""The email that carries a share link (templates/email/shared_notes/).

It holds the link and when it expires, never the passcode, the notes or the study's
title: the subject shows on lock screens, and the passcode must reach the reader by
another way. Its wording is fixed: nothing the sender types goes into it, so the form
cannot be used to send anyone a message of one's own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Self

from app.outbox.email.rendering import EmailContext


@dataclass(frozen=True)
class SharedNotesEmail(EmailContext):
    template = "shared_notes"
    share_url: str
    expires_at: dt.datetime
    site_url: str

    @classmethod
    def sample(cls) -> Self:
        return cls(
            share_url="https://trialfinder.example.org/shared/sample-token",
            expires_at=dt.datetime(2026, 12, 30, 12, 0, tzinfo=dt.UTC),
            site_url="https://trialfinder.example.org",
        )
