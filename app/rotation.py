"""`trialfinder rotate-key`: re-encrypt every stored value under the newest data key.

Put a new key first in TRIALFINDER_DATA_KEY, keep the old ones after it, run this, then
drop the old ones. Every column declared Encrypted or EncryptedJSON is found from the
models, so a table added later is covered without a change here. Values are rewritten
in short transactions, a batch of rows at a time, without ever being decrypted into
Python objects beyond the rotation itself; running it twice is harmless.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, Text, select, type_coerce, update
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (registers every table)
from app.crypto import Encrypted, EncryptedJSON, Vault
from app.db import Base, write_transaction
from app.keycheck import DATA_CHECK, KeyCheck

BATCH = 500


def encrypted_columns() -> dict[Table, list[Column[object]]]:
    """Every table with encrypted columns, and those columns."""
    found: dict[Table, list[Column[object]]] = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, Encrypted | EncryptedJSON)]
        if columns:
            found[table] = columns
    return found


def _rotate_table(
    sessions: sessionmaker[Session], keys: Vault, table: Table, columns: list[Column[object]]
) -> int:
    (key,) = table.primary_key.columns
    raw = [type_coerce(column, Text).label(column.name) for column in columns]
    rotated, after = 0, None
    while True:
        with sessions() as session, write_transaction(session):
            # Locked: a worker that clears a delivered message's content meanwhile must not
            # see it written back; it waits for this batch, or this batch waits for it.
            query = select(key, *raw).order_by(key).limit(BATCH).with_for_update()
            if after is not None:
                query = query.where(key > after)
            rows = session.execute(query).all()
            for row in rows:
                values = {
                    column.name: keys.rotate(getattr(row, column.name))
                    for column in columns
                    if getattr(row, column.name) is not None
                }
                if values:
                    session.execute(
                        update(table)
                        .where(key == row[0])
                        .values({table.c[name]: type_coerce(v, Text) for name, v in values.items()})
                    )
                    rotated += len(values)
        if len(rows) < BATCH:
            return rotated
        after = rows[-1][0]


def rotate_all(sessions: sessionmaker[Session], keys: Vault) -> dict[str, int]:
    """Re-encrypt everything under the newest key; values rotated per table."""
    counts = {
        table.name: _rotate_table(sessions, keys, table, columns)
        for table, columns in encrypted_columns().items()
    }
    with sessions() as session, write_transaction(session):
        check = session.get(KeyCheck, DATA_CHECK)
        if check is not None:
            check.value = keys.rotate(check.value)
    return counts
