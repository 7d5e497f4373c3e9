"""Shared notes: one row per share link, holding the notes sealed twice.

The notes (quotes, answers, notes, the study) are sealed with a key derived from the
passcode (app/crypto.py `seal`), and that sealed text is stored encrypted with the data
key like every other personal value: a copy of the database opens nothing, and neither
does the data key without the passcode. The link's token and the revoke secret are kept
only as SHA-256 (both are random, so no key is needed): the database cannot rebuild either.

The row outlives its notes for a while: when a link is revoked or expires the sealed notes
are wiped at once, and the row stays 30 days more so the link can say "withdrawn" or
"expired" (410) rather than "not found".
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import Encrypted
from app.db import Base, UTCDateTime


class Share(Base):
    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_key: Mapped[str] = mapped_column(String(64), unique=True)
    revoke_key: Mapped[str] = mapped_column(String(64))
    # The passcode-sealed notes, encrypted again with the data key; None once wiped.
    sealed: Mapped[str | None] = mapped_column(Encrypted())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Keyed hash of the address the link was emailed to, if any: `erase EMAIL` revokes it.
    email_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # Epoch seconds of recent wrong passcodes (and tries still being checked), oldest first.
    failures: Mapped[list[float]] = mapped_column(JSON, default=list)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    opened: Mapped[int] = mapped_column(Integer, default=0)
