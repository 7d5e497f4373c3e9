"""Check values of the keys, so a process given keys that do not open the data refuses to start.

The database keeps the data key's encryption of a fixed text, and the lookup key's hash
of it. A process whose data keys cannot decrypt the first, or whose lookup key does not
give the second, would fail on every stored request or silently miss every duplicate,
limit and erasure; it stops at start instead, saying which key is wrong.
"""

from __future__ import annotations

import hmac

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from app.crypto import KeyProblem, Vault
from app.db import Base, write_transaction

DATA_CHECK = "data-key"
LOOKUP_CHECK = "lookup-key"
CHECK_TEXT = "TrialFinder key check"


class KeyCheck(Base):
    __tablename__ = "key_checks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def check_values(keys: Vault) -> dict[str, str]:
    """What the database stores to recognise these keys later."""
    return {DATA_CHECK: keys.encrypt(CHECK_TEXT), LOOKUP_CHECK: keys.lookup(CHECK_TEXT)}


def verify(session: Session, keys: Vault) -> None:
    """Raise KeyProblem unless these keys open this database's data.

    A database without check values (a new one) gets them, in the caller's transaction.
    """
    stored = {row.name: row.value for row in session.scalars(select(KeyCheck))}
    data, lookup_value = stored.get(DATA_CHECK), stored.get(LOOKUP_CHECK)
    if data is not None:
        try:
            opened: str | None = keys.decrypt(data)
        except KeyProblem:
            opened = None
        if opened != CHECK_TEXT:
            raise KeyProblem(
                "TRIALFINDER_DATA_KEY does not open this database's data: none of its keys "
                "decrypts the stored check value. Give the key the data was written with "
                "(a new key first, the old ones after it)."
            )
    if lookup_value is not None and not hmac.compare_digest(lookup_value, keys.lookup(CHECK_TEXT)):
        raise KeyProblem(
            "TRIALFINDER_LOOKUP_KEY is not the one this database's data was written with: "
            "duplicate checks, limits and erasure would miss. Give the original lookup key."
        )
    fresh = check_values(keys)
    for name in (DATA_CHECK, LOOKUP_CHECK):
        if name not in stored:
            session.add(KeyCheck(name=name, value=fresh[name]))


def check_keys(sessions: sessionmaker[Session], keys: Vault) -> None:
    """`verify` in a transaction of its own; raises KeyProblem."""
    with sessions() as session, write_transaction(session):
        verify(session, keys)
